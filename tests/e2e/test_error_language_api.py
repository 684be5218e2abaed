"""The REST API's error sentences follow the request's ``Accept-Language``; the codes do not.

The same request is sent twice, once preferring Spanish and once English: the status, the error's code,
its details and the code of each field are the same; the message (and each field's message) is in the
language asked for. A client that names no supported language gets English.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.core.uow import Database
from leadflow.http.failures import RequestIds
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, field_errors
from tests.factories import lead_data

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def in_both_languages(send: Any, status: int, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The error of the same request asked in Spanish and in English, checked for status and code."""
    spanish = assert_error(send(SPANISH), status, code)
    english = assert_error(send(ENGLISH), status, code)
    return spanish, english


def test_a_validation_error_names_the_same_fields_and_codes_in_either_language(client: TestClient) -> None:
    invalid = {**lead_data(), "last_name": None, "email": "not an address"}

    spanish, english = in_both_languages(
        lambda language: client.post(f"{API}/leads", json=invalid, headers=language), 422, "validation_failed"
    )

    assert field_errors(spanish) == field_errors(english) == {"last_name": "required", "email": "invalid_email"}
    messages = {item["field"]: item["message"] for item in spanish["details"]["fields"]}
    assert messages == {
        "last_name": "Este campo es obligatorio.",
        "email": "Escriba una dirección de correo electrónico válida, como nombre@example.com.",
    }
    # The sentence names each field with its problem, in the order of the details, as the English one does.
    assert spanish["message"] == " ".join(f"{field}: {message}" for field, message in messages.items())
    english_messages = {item["field"]: item["message"] for item in english["details"]["fields"]}
    assert english_messages["last_name"] == "Last name is required."
    assert english["message"] == " ".join(english_messages.values())


def test_a_missing_record_is_refused_in_the_language_asked_for(client: TestClient) -> None:
    missing = uuid.uuid4()

    spanish, english = in_both_languages(
        lambda language: client.get(f"{API}/leads/{missing}", headers=language), 404, "lead_not_found"
    )

    assert spanish["message"] == "Este cliente potencial no existe o se eliminó."
    assert english["message"] == f"No lead has the id {missing}."


def test_an_unknown_address_is_refused_in_the_language_asked_for(client: TestClient) -> None:
    spanish, english = in_both_languages(
        lambda language: client.get(f"{API}/no-such-thing", headers=language), 404, "not_found"
    )

    assert spanish["message"] == "No hay nada en esta dirección; compruebe la URL en /api/v1/docs."
    assert english["message"] == "There is nothing at this address; check the URL against /api/v1/docs."


def test_a_duplicate_is_refused_with_the_source_documents_sentence_in_spanish(client: TestClient) -> None:
    first = create_lead(client, email="ana.garcia@example.com")
    twin = lead_data(email="ana.garcia@example.com")

    spanish, english = in_both_languages(
        lambda language: client.post(f"{API}/leads", json=twin, headers=language), 409, "duplicate_detected"
    )

    assert spanish["message"] == (
        "No se creó ni actualizó ningún registro de clientes potenciales porque ya existe un duplicado del registro actual."
    )
    assert english["message"] == (
        "No lead record was created or updated because a duplicate of the current record already exists."
    )
    # The matches a client acts on are data, the same whatever the language.
    assert spanish["details"] == english["details"]
    assert [match["id"] for match in spanish["details"]["matches"]] == [first["id"]]


@pytest.fixture
def salesperson_headers(database: Database, actor: Actor) -> dict[str, str]:
    """Authorization headers of a user whose only role is Salesperson."""
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return bearer_headers(database, "seller@example.com")


def test_a_missing_privilege_is_named_in_the_language_asked_for(
    anonymous_client: TestClient, salesperson_headers: dict[str, str]
) -> None:
    spanish, english = in_both_languages(
        lambda language: anonymous_client.post(
            f"{API}/duplicate-jobs", json={"table": "accounts"}, headers={**salesperson_headers, **language}
        ),
        403,
        "forbidden",
    )

    assert spanish["details"] == english["details"]
    assert spanish["details"]["privilege"] == "write" and spanish["details"]["table"] == "settings"
    assert spanish["message"] == (
        "Le falta el privilegio Escribir en Configuración (sus roles lo conceden en el nivel Ninguno); "
        "pida a un administrador un rol que lo conceda."
    )
    assert english["message"].startswith("You lack the Write privilege on settings")
    assert english["message"].endswith("ask an administrator for a role that does.")


@pytest.mark.parametrize("header", [None, "fr-FR,fr;q=0.9", "es;q=0", "*"])
def test_a_request_that_asks_for_no_supported_language_gets_english(client: TestClient, header: str | None) -> None:
    missing = uuid.uuid4()
    headers = {"Accept-Language": header} if header is not None else {}

    error = assert_error(client.get(f"{API}/leads/{missing}", headers=headers), 404, "lead_not_found")

    assert error["message"] == f"No lead has the id {missing}."


def test_english_is_preferred_when_it_weighs_more(client: TestClient) -> None:
    missing = uuid.uuid4()
    headers = {"Accept-Language": "es;q=0.4,en;q=0.8"}

    error = assert_error(client.get(f"{API}/leads/{missing}", headers=headers), 404, "lead_not_found")

    assert error["message"] == f"No lead has the id {missing}."


def test_an_unexpected_failure_names_its_request_id_in_spanish() -> None:
    """The last-resort 500 of the middleware: its sentence in Spanish, with the id the client is told."""

    async def explode(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("a bug no test should ever see in production")

    plain = TestClient(RequestIds(explode))  # no lifespan: the app fails every request it is given
    response = plain.get("/explode", headers={**SPANISH, "X-Request-ID": "req-42"})

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["request_id"] == "req-42"
    assert error["message"] == (
        "Algo ha fallado en el servidor; no se ha cambiado nada. Si vuelve a ocurrir, dé este identificador a su "
        "administrador: req-42."
    )


def test_a_request_without_a_token_is_told_to_sign_in_in_the_language_asked_for(anonymous_client: TestClient) -> None:
    spanish, english = in_both_languages(
        lambda language: anonymous_client.get(f"{API}/leads", headers=language), 401, "not_authenticated"
    )

    assert spanish["message"] == (
        "Inicie sesión primero: envíe `Authorization: Bearer <token>` con un token de POST /api/v1/auth/token."
    )
    assert english["message"].startswith("Sign in first")
