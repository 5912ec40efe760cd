from fieldsales.extensions import Blueprint

from fieldsales.openapi import responds
from fieldsales.orgs import service
from fieldsales.orgs.schemas import SettingsPatchSchema, SettingsSchema
from fieldsales.auth.guard import current

blp = Blueprint("org", __name__, url_prefix="/api/v1", description="Organisation settings")


@blp.get("/org/settings")
@blp.response(200, SettingsSchema)
def get_settings():
    """The organisation's settings (thresholds used for visit flags)."""
    return service.get_settings(principal=current())


@blp.patch("/org/settings")
@blp.arguments(SettingsPatchSchema)
@blp.response(200, SettingsSchema)
@responds(blp, 403)
def update_settings(data):
    """Change settings (admin)."""
    return service.update_settings(principal=current(), data=data)
