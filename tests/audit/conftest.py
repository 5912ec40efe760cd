import pytest


@pytest.fixture(autouse=True)
def stores(app, tmp_path, monkeypatch):
    """Each test keeps its photos and its checkpoints in folders of its own."""
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    monkeypatch.setitem(app.config, "CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    yield tmp_path
    app.extensions.pop("fieldsales.photo_store", None)
