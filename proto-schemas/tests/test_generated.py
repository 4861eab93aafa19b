"""The generated JSON Schema and AsyncAPI documents match the Structs they come from."""

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from skiff_contracts import EVENT_TYPES, Envelope, decode_envelope, new_id, payload_type
from skiff_contracts.events.identity import UserRegistered
from skiff_contracts.generate import asyncapi_document, event_schema, stale_files, write


def test_generated_files_are_up_to_date() -> None:
    problems = stale_files()
    assert problems == [], f"run `make contracts`: {problems}"


def test_a_changed_struct_makes_the_files_stale(tmp_path: Path) -> None:
    write(tmp_path)
    assert stale_files(tmp_path) == []
    target = tmp_path / "jsonschema" / "identity.user.registered.v1.json"
    target.write_text(target.read_text().replace('"email"', '"e_mail"'))
    (tmp_path / "jsonschema" / "identity.user.removed.v9.json").write_text("{}")
    assert sorted(stale_files(tmp_path)) == [
        "jsonschema/identity.user.registered.v1.json",
        "jsonschema/identity.user.removed.v9.json (no longer generated)",
    ]


def test_every_event_has_a_channel_and_a_send_operation() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {event_type for event_type, _ in EVENT_TYPES}
    assert all(op["action"] == "send" for op in document["operations"].values())


def test_schema_pins_type_and_describes_the_payload() -> None:
    schema = event_schema(UserRegistered)
    assert schema["properties"]["type"] == {"const": "identity.user.registered"}
    data_ref = schema["properties"]["data"]["$ref"].split("/")[-1]
    assert set(schema["$defs"][data_ref]["required"]) >= {"user_id", "email", "organization_id"}


def test_envelope_round_trip_and_strict_payload() -> None:
    payload = UserRegistered(
        user_id="usr_1",
        email="a@example.com",
        name="A",
        organization_id="org_1",
        registered_at=datetime.now(UTC),
    )
    envelope = Envelope.wrap(payload, source="skiff/identity", organization_id="org_1")
    decoded = decode_envelope(envelope.encode())
    assert decoded.id.startswith("evt_")
    assert decoded.payload(payload_type(decoded.type, decoded.dataversion)) == payload
    broken = Envelope.wrap(payload, source="x").encode().replace(b'"usr_1"', b"42")
    with pytest.raises(msgspec.ValidationError):
        decode_envelope(broken).payload(UserRegistered)


def test_ids_sort_by_creation_even_within_one_millisecond() -> None:
    ids = [new_id("tst") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == len("tst_") + 26 for i in ids)
