"""fieldsales/leads/csv_import.py: CSV rows, header errors, text streams."""
import io

import pytest

from fieldsales.leads import csv_import


def _rows(text):
    from fieldsales.leads.schemas import LeadFieldsSchema

    return list(csv_import.read_rows(io.StringIO(text, newline=""), LeadFieldsSchema()))


def test_csv_rows_with_line_numbers_and_payloads():
    rows = _rows("name,phone,lat,lng,tags\r\nA,138 0000 0001,31.2,121.4,a; b|c\r\n\r\nB,,,,\r\n")
    assert rows == [
        (2, {"name": "A", "phone": "138 0000 0001", "location": {"lat": 31.2, "lng": 121.4},
             "tags": ["a", "b", "c"]}, None),
        (4, {"name": "B"}, None)]


def test_csv_quoted_line_breaks_keep_the_start_line():
    rows = _rows('name,email\n"two\nlines",bad\nok,\n')
    assert rows[0][0] == 2 and rows[0][2].startswith("email:")
    assert rows[1] == (4, {"name": "ok"}, None)


def test_csv_header_errors():
    from fieldsales.errors import Unprocessable
    for text in ("", "phone\n1\n", "name,name\nx,y\n", "name,bogus\nx,y\n"):
        with pytest.raises(Unprocessable):
            _rows(text)


def test_text_stream_media_types():
    from fieldsales.errors import UnsupportedMediaType
    with pytest.raises(UnsupportedMediaType):
        csv_import.text_stream(io.BytesIO(b""), mimetype="application/json", charset=None)
    with pytest.raises(UnsupportedMediaType):
        csv_import.text_stream(io.BytesIO(b""), mimetype="text/csv", charset="nope")
    stream = csv_import.text_stream(io.BytesIO("\ufeffname\n".encode()), mimetype="text/csv",
                                    charset="UTF-8")
    assert stream.read() == "name\n"
