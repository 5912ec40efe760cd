import pytest


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    """Each test stores its photos in its own folder (and can list what was left behind)."""
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
    monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    yield folder
    app.extensions.pop("fieldsales.photo_store", None)


def stored_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
