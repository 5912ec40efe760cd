"""Photo evidence attached to a visit: the original bytes plus what was read from them."""
import uuid
from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, Float, ForeignKeyConstraint, Index, Integer,
                        String, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, TimestampMixin

PHOTO_SOURCES = ("camera", "gallery")


class Photo(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "photos"
    __table_args__ = (
        # The same bytes on the same visit are one photo (a retried upload).
        UniqueConstraint("org_id", "visit_id", "sha256"),
        ForeignKeyConstraint(["org_id", "visit_id"], ["visits.org_id", "visits.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        CheckConstraint("source IN ('camera', 'gallery')", name="source"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        CheckConstraint("(exif_lat IS NULL) = (exif_lng IS NULL)", name="exif_lat_lng_together"),
        # Reuse lookups: exact bytes, and the four 16-bit bands of the 64-bit perceptual hash
        # (two hashes within 3 bits of each other share at least one band: pigeonhole).
        Index("ix_photos_org_sha256", "org_id", "sha256"),
        Index("ix_photos_org_phash_b0", "org_id", "phash_b0"),
        Index("ix_photos_org_phash_b1", "org_id", "phash_b1"),
        Index("ix_photos_org_phash_b2", "org_id", "phash_b2"),
        Index("ix_photos_org_phash_b3", "org_id", "phash_b3"),
    )

    visit_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]  # the visit's rep, who uploaded it
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str]
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[datetime | None]
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lng: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(default="camera", server_default="camera")
    flags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list,
                                             server_default=text("'{}'"))
    phash: Mapped[int] = mapped_column(BigInteger)
    phash_b0: Mapped[int] = mapped_column(Integer)
    phash_b1: Mapped[int] = mapped_column(Integer)
    phash_b2: Mapped[int] = mapped_column(Integer)
    phash_b3: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str]  # prefix of the stored files (original, preview, thumbnail)

    @property
    def exif_location(self):
        return None if self.exif_lat is None else {"lat": self.exif_lat, "lng": self.exif_lng}

    @property
    def urls(self):
        base = f"/api/v1/photos/{self.id}"
        return {"original": f"{base}/original", "preview": f"{base}/preview",
                "thumbnail": f"{base}/thumbnail"}
