"""``$batch``: many Web API requests in one multipart/mixed body.

Each part is an HTTP request answered as if sent alone; the requests of a change set run in one
unit of work and are committed together, or none is (the change set is then answered with the
error alone). Outside change sets, the batch stops at the first failure unless the request says
``Prefer: odata.continue-on-error``. A later request of a change set may name an earlier one's
record by its Content-ID (``$1``), in its address or in an ``@odata.bind``.
"""

from __future__ import annotations

import email.parser
import email.policy
import http
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi.responses import Response
from starlette.datastructures import Headers, QueryParams

from leadflow.core.errors import LeadflowError
from leadflow.dataverse.call import Call
from leadflow.dataverse.errors import DataverseError, bad_request, respond

if TYPE_CHECKING:
    from leadflow.core.uow import UnitOfWork
    from leadflow.security.actor import Actor

# Dataverse takes at most 1,000 requests in one batch.
MAX_REQUESTS = 1000
_REFERENCE = re.compile(r"^\$(\d+)")
_CRLF = "\r\n"


@dataclass
class Part:
    """One request inside a batch."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    parts: list[Part] = field(default_factory=list)


def parse_batch(content_type: str, body: bytes) -> list[Part | ChangeSet]:
    """The requests and change sets of a multipart/mixed batch body."""
    if "multipart/mixed" not in content_type.lower() or "boundary" not in content_type.lower():
        raise bad_request("A $batch request is multipart/mixed with a boundary.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    if not message.is_multipart():
        raise bad_request("The $batch body has no parts for its boundary.")
    items: list[Part | ChangeSet] = []
    count = 0
    for piece in message.iter_parts():
        if piece.is_multipart():
            change_set = ChangeSet([_part(inner) for inner in piece.iter_parts()])
            items.append(change_set)
            count += len(change_set.parts)
        else:
            items.append(_part(piece))
            count += 1
        if count > MAX_REQUESTS:
            raise bad_request("A $batch holds at most %(most)s requests.", most=MAX_REQUESTS)
    if not items:
        raise bad_request("The $batch body has no parts for its boundary.")
    return items


def _part(piece: Any) -> Part:
    """One application/http part: a request line, headers, a blank line, a body."""
    if piece.get_content_type() != "application/http":
        raise bad_request("Each part of a $batch is application/http.")
    payload = piece.get_payload(decode=True) or b""
    text = payload.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").split("\n")
    method, _, rest = lines[0].strip().partition(" ")
    target = rest.rsplit(" HTTP/", 1)[0].strip() if " HTTP/" in rest else rest.strip()
    if not method or not target:
        raise bad_request("A part of the $batch does not start with a request line such as GET leads HTTP/1.1.")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip().lower(), value.strip()))
    return Part(method.upper(), target, headers, body.strip(), piece.get("Content-ID"))


def _path_and_query(target: str, base: str, references: dict[str, str]) -> tuple[str, str]:
    """A part's address relative to the service root, with ``$n`` replaced by the record it made."""
    reference = _REFERENCE.match(target)
    if reference is not None:
        if reference.group(1) not in references:
            raise bad_request("No earlier request of this change set has the Content-ID %(id)s.", id=reference.group(1))
        target = references[reference.group(1)] + target[reference.end() :]
    address = urlsplit(target)
    path = address.path
    root = urlsplit(base).path
    if path.startswith(root):
        path = path[len(root) :]
    elif path.startswith("/api/data/"):
        path = path.split("/", 4)[4] if path.count("/") >= 4 else ""
    return path.lstrip("/"), address.query


def _resolve_binds(body: bytes, references: dict[str, str]) -> bytes:
    """``"nav@odata.bind": "$1"`` as the address of the record request 1 made."""
    if b"$" not in body or not references:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("@odata.bind") and isinstance(value, str) and _REFERENCE.fullmatch(value):
                data[key] = references.get(value[1:], value)
    return json.dumps(data).encode()


def run_batch(
    call: Call,
    *,
    make_call: Callable[..., Call],
    handle: Callable[[Call, UnitOfWork, Actor], Response],
    serve: Callable[[Call], Response],
) -> Response:
    """Answer a $batch: each part in turn, change sets atomically."""
    items = parse_batch(call.header("content-type") or "", call.raw_body)
    keep_going = any("odata.continue-on-error" in value.lower() for value in call.headers.getlist("prefer"))
    shared = [(name, value) for name, value in call.headers.items() if name in ("authorization", "accept-language")]

    def sub_call(part: Part, references: dict[str, str]) -> Call:
        path, query = _path_and_query(part.target, call.base, references)
        if path.startswith("$batch"):
            raise bad_request("A $batch cannot hold another $batch.")
        return make_call(
            method=part.method,
            headers=Headers(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in [*shared, *part.headers]]),
            params=QueryParams(query),
            database=call.database,
            path=path,
            base=call.base,
            raw_body=_resolve_binds(part.body, references),
        )

    answers: list[tuple[Part | None, Response] | list[tuple[Part, Response]]] = []
    for item in items:
        if isinstance(item, ChangeSet):
            try:
                answers.append(_change_set(item, call, sub_call, handle))
                failed = False
            except (DataverseError, LeadflowError) as error:
                answers.append((None, respond(error, call.language)))
                failed = True
        else:
            try:
                answers.append((item, serve(sub_call(item, {}))))
                failed = False
            except (DataverseError, LeadflowError) as error:
                answers.append((item, respond(error, call.language)))
                failed = True
        if failed and not keep_going:
            break
    boundary = f"batchresponse_{uuid.uuid4()}"
    return Response(
        _multipart(answers, boundary),
        status_code=200,
        media_type=f"multipart/mixed; boundary={boundary}",
        headers={"OData-Version": "4.0"},
    )


def _change_set(
    change_set: ChangeSet,
    call: Call,
    sub_call: Callable[[Part, dict[str, str]], Call],
    handle: Callable[[Call, UnitOfWork, Actor], Response],
) -> list[tuple[Part, Response]]:
    references: dict[str, str] = {}
    answers: list[tuple[Part, Response]] = []
    with call.database.unit_of_work() as uow:
        actor = call.actor(uow)
        for part in change_set.parts:
            if part.method == "GET":
                raise bad_request("A change set holds only requests that write (POST, PATCH, DELETE).")
            response = handle(sub_call(part, references), uow, actor)
            entity = response.headers.get("OData-EntityId")
            if part.content_id and entity:
                references[part.content_id] = entity
            answers.append((part, response))
        uow.commit()
    return answers


def _http_part(response: Response, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    status = response.status_code
    inner = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    for name, value in response.headers.items():
        if name.lower() not in ("content-length",):
            inner.append(f"{name}: {value}")
    body = bytes(response.body).decode("utf-8") if response.body else ""
    return _CRLF.join(lines) + _CRLF + _CRLF + _CRLF.join(inner) + _CRLF + _CRLF + body + _CRLF


def _multipart(answers: list[Any], boundary: str) -> str:
    out = []
    for answer in answers:
        if isinstance(answer, list):
            inner_boundary = f"changesetresponse_{uuid.uuid4()}"
            inner = "".join(
                f"--{inner_boundary}{_CRLF}{_http_part(response, part.content_id)}" for part, response in answer
            )
            inner += f"--{inner_boundary}--{_CRLF}"
            out.append(
                f"--{boundary}{_CRLF}Content-Type: multipart/mixed; boundary={inner_boundary}{_CRLF}{_CRLF}{inner}"
            )
        else:
            part, response = answer
            out.append(f"--{boundary}{_CRLF}{_http_part(response, part.content_id if part else None)}")
    return "".join(out) + f"--{boundary}--{_CRLF}"
