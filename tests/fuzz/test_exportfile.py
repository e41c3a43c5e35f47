"""Property tests of the export file format: the checksummed form is RFC 8785's (checked against an
independent implementation), what the writer writes reads back as written, and any single change,
loss or cut of the bytes is refused."""

from __future__ import annotations

import io
from typing import Any

import jcs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexplugins import exportfile
from flexplugins.domain.errors import ApiError

SETTINGS = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
# What the format holds: strings (any Unicode but lone surrogates), integers, booleans, nulls,
# objects with the ASCII member names of the API's JSON, and lists.
scalars = (
    st.text(st.characters(codec="utf-8"), max_size=40)
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.booleans()
    | st.none()
)
names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)
records = st.dictionaries(names.filter(lambda n: n not in ("type", "checksum")), values, max_size=5)


@SETTINGS
@given(records)
def test_the_canonical_form_is_rfc_8785(record: dict[str, Any]) -> None:
    assert exportfile.canonical(record) == jcs.canonicalize(record)


def _file(bodies: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    writer = exportfile.Writer(out)
    writer.write({"type": exportfile.HEADER, "format": exportfile.FORMAT, "version": exportfile.VERSION})
    for body in bodies:
        writer.write({"type": exportfile.PLUGIN, **body})
    writer.close()
    return out.getvalue()


def _read(data: bytes) -> list[dict[str, Any]]:
    return list(exportfile.read_records(io.BytesIO(data)))


@SETTINGS
@given(st.lists(records, min_size=1, max_size=4), st.data())
def test_any_change_loss_or_cut_is_refused(bodies: list[dict[str, Any]], data: st.DataObject) -> None:
    good = _file(bodies)
    read = _read(good)
    assert [{k: v for k, v in r.items() if k != "type"} for r in read[1:]] == bodies

    cut = data.draw(st.integers(min_value=0, max_value=len(good) - 1), label="cut at")
    with pytest.raises(ApiError):
        _read(good[:cut])

    lines = good.splitlines(keepends=True)
    lost = data.draw(st.integers(min_value=1, max_value=len(lines) - 2), label="lost line")
    with pytest.raises(ApiError):
        _read(b"".join(lines[:lost] + lines[lost + 1 :]))

    position = data.draw(st.integers(min_value=0, max_value=len(good) - 2), label="changed byte")
    changed = bytearray(good)
    changed[position] = (changed[position] + data.draw(st.integers(1, 255), label="by")) % 256
    if bytes(changed) != good:
        with pytest.raises(ApiError):
            _read(bytes(changed))


def test_out_of_order_and_unknown_versions_are_refused() -> None:
    out = io.BytesIO()
    writer = exportfile.Writer(out)
    writer.write({"type": exportfile.HEADER, "format": exportfile.FORMAT, "version": 2})
    writer.close()
    with pytest.raises(ApiError, match="format version 2"):
        _read(out.getvalue())

    out = io.BytesIO()
    writer = exportfile.Writer(out)
    writer.write({"type": exportfile.HEADER, "format": exportfile.FORMAT, "version": exportfile.VERSION})
    writer.write({"type": exportfile.RELEASE, "data": {}})
    writer.write({"type": exportfile.PLUGIN, "data": {}})
    writer.close()
    with pytest.raises(ApiError, match="out of order"):
        _read(out.getvalue())
