"""The JSON limits and text checks on their own (no app): what each refuses and what it keeps."""
import pytest

from fieldsales import textguard


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 50_000, "9" * 5000, str(2**63),
                                  str(-(2**63) - 1), "1e999", "-1e999", "NaN", "Infinity",
                                  "[" * 65 + "]" * 65])
def test_loads_refuses_hostile_json(text):
    with pytest.raises(textguard.JSONError):
        textguard.loads(text)


def test_loads_keeps_ordinary_json():
    text = '{"n": 9223372036854775807, "m": -9223372036854775808, "f": 1.5e300, "d": ' \
           + "[" * 63 + "]" * 63 + "}"
    value = textguard.loads(text)
    assert value["n"] == 2**63 - 1 and value["m"] == -(2**63) and value["f"] == 1.5e300


@pytest.mark.parametrize("cell,bad", [("Li Na", False), ("", False), ("a\x00b", True),
                                      ("\x00", True), ("中文 ok", False)])
def test_cell_problem(cell, bad):
    problem = textguard.cell_problem(cell)
    assert (problem is not None) == bad
    if bad:
        assert "NUL" in problem
