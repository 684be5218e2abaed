"""The Dataverse-compatible Web API at /api/data/v9.2 (and v9.0, v9.1): OData requests in,
leadflow's service calls, Dataverse's answers out.

One route takes every method and path below the prefix and dispatches on the method and the path's
segments, as OData addresses (``leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead``) do not fit path
templates. Every refusal, domain or protocol, is answered in Dataverse's error shape by
``DataverseRoute``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from leadflow.core.errors import LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.dataverse import actions, metadata
from leadflow.dataverse.batch import run_batch
from leadflow.dataverse.call import Call, make_call
from leadflow.dataverse.entities import (
    creation_input,
    exists,
    get_readable,
    held_elsewhere,
    query_records,
    read_body,
    record_missing,
    state_values,
    validated,
)
from leadflow.dataverse.errors import (
    ALREADY_EXISTS,
    BAD_SEGMENT,
    RECORD_NOT_FOUND,
    STALE_VERSION,
    DataverseError,
    bad_request,
    invalid,
    respond,
    unexpected_failure,
)
from leadflow.dataverse.query import parse_query, parse_select, split_top_level
from leadflow.dataverse.tables import BY_ENTITY_SET, BY_LOGICAL_NAME, LEAD, OPPORTUNITY, TABLES, Table
from leadflow.http.language import language_from_header
from leadflow.leads import service as leads
from leadflow.leads.models import LeadState, LeadStatusReason
from leadflow.security.actor import Actor

log = logging.getLogger("leadflow.dataverse")

PREFIX = "/api/data"
VERSIONS = ("v9.2", "v9.1", "v9.0")
ODATA_HEADERS = {"OData-Version": "4.0"}
JSON_TYPE = "application/json; odata.metadata=minimal"
_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_RECORD = re.compile(rf"^(?P<set>[A-Za-z_]\w*)\((?P<id>{_GUID})\)$")
_KEYED = re.compile(r"^(?P<set>[A-Za-z_]\w*)\((?P<key>.*)\)$")
_DEFINITION = re.compile(r"^EntityDefinitions\(LogicalName='(?P<name>[^']*)'\)$")
_ATTRIBUTE = re.compile(r"^Attributes\(LogicalName='(?P<name>[^']*)'\)$")
_ETAG = re.compile(r'^\s*(?:W/)?"(?P<version>\d+)"\s*$')
_ACTION_PREFIX = "Microsoft.Dynamics.CRM."


class DataverseRoute(APIRoute):
    """Answers every refusal of its handler in Dataverse's error shape, with the OData headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            language = language_from_header(request.headers.get("accept-language"))
            try:
                response = await handler(request)
            except (DataverseError, LeadflowError) as error:
                response = respond(error, language)
            except Exception:
                # A failure no refusal foresaw: logged with its traceback, answered in Dataverse's shape.
                log.exception("Web API request failed: %s %s", request.method, request.url.path)
                response = respond(unexpected_failure(), language)
            for name, value in ODATA_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return answer


router = APIRouter(route_class=DataverseRoute, include_in_schema=False)


async def _call(request: Request, version: str, path: str) -> Call:
    if version not in VERSIONS:
        raise DataverseError(404, BAD_SEGMENT, "Resource not found for the segment '%(segment)s'.", segment=version)
    return make_call(
        method=request.method,
        headers=request.headers,
        params=request.query_params,
        database=request.app.state.database,
        path=path,
        base=f"{str(request.base_url).rstrip('/')}{PREFIX}/{version}/",
        raw_body=await request.body() if request.method in ("POST", "PATCH", "PUT") else b"",
    )


def serve(call: Call) -> Response:
    """Answer one request in a unit of work of its own, committed when it writes and succeeds."""
    if call.segments[:1] == ["$batch"] and call.method == "POST":
        return run_batch(call, make_call=make_call, handle=handle, serve=serve)
    reading = call.method == "GET"
    with call.database.unit_of_work(read_only=reading) as uow:
        actor = call.actor(uow)
        response = handle(call, uow, actor)
        if not reading:
            uow.commit()
    return response


def handle(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    """Answer one request inside a unit of work; nothing is committed here."""
    handler = {"GET": _get, "POST": _post, "PATCH": _patch, "DELETE": _delete}.get(call.method)
    if handler is None:
        raise DataverseError(405, BAD_SEGMENT, "The method %(method)s is not supported here.", method=call.method)
    return handler(call, uow, actor)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers, media_type=JSON_TYPE)


def _table(name: str) -> Table:
    table = BY_ENTITY_SET.get(name)
    if table is None:
        raise _unknown_segment(name)
    return table


def _record_address(segment: str) -> tuple[Table, uuid.UUID]:
    match = _RECORD.match(segment)
    if match is None:
        keyed = _KEYED.match(segment)
        if keyed is not None and keyed.group("set") in BY_ENTITY_SET:
            raise bad_request(
                "%(set)s has no alternate key; address a record by its id: %(set)s(<guid>).", set=keyed.group("set")
            )
        raise _unknown_segment(segment)
    return _table(match.group("set")), uuid.UUID(match.group("id"))


def _if_match(call: Call) -> tuple[bool, int | None]:
    """(whether If-Match was sent, the row version it names); ``*`` names none. Compared weakly."""
    header = call.header("if-match")
    if header is None:
        return False, None
    if header.strip() == "*":
        return True, None
    match = _ETAG.match(header)
    if match is None:
        raise DataverseError(
            412,
            STALE_VERSION,
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    return True, int(match.group("version"))


def _unknown_segment(segment: str) -> DataverseError:
    return DataverseError(404, BAD_SEGMENT, "Resource not found for the segment '%(segment)s'.", segment=segment)


# ----------------------------------------------------------------------------------------------
# GET


def _get(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    segments = call.segments
    if not segments:
        documents = [{"name": table.entity_set, "kind": "EntitySet", "url": table.entity_set} for table in TABLES]
        return _json({"@odata.context": call.context(""), "value": documents})
    head = segments[0]
    if head == "$metadata":
        return Response(metadata.csdl(call.language), media_type="application/xml")
    if head in ("WhoAmI", "WhoAmI()"):
        answer = actions.who_am_i(uow=uow, actor=actor)
        return _json({"@odata.context": call.context("Microsoft.Dynamics.CRM.WhoAmIResponse"), **answer})
    if head == "EntityDefinitions" or head.startswith("EntityDefinitions("):
        return _definitions(call)
    if head == "sdkmessagefilters":
        return _message_filters(call)
    if head.startswith("RetrieveDuplicates("):
        return _retrieve_duplicates(call, uow, actor)
    if len(segments) > 1:
        raise _unknown_segment(segments[1])
    if head in BY_ENTITY_SET:
        return _list(call, uow, actor, BY_ENTITY_SET[head])
    table, record_id = _record_address(head)
    record = get_readable(uow.session, table, record_id, actor)
    etag = f'W/"{record.row_version}"'
    none_match = _ETAG.match(call.header("if-none-match") or "")
    if none_match is not None and none_match.group("version") == str(record.row_version):
        return Response(status_code=304, headers={"ETag": etag})
    query = parse_query(table, dict(call.params))
    entity = call.renderer(uow, actor).entities(table, [record], query.select, query.expand)[0]
    selected = f"({','.join(a.read_name for a in query.select)})" if query.select else ""
    return _json(
        {"@odata.context": call.context(f"{table.entity_set}{selected}/$entity"), **entity}, headers={"ETag": etag}
    )


def _list(call: Call, uow: UnitOfWork, actor: Actor, table: Table) -> Response:
    params = dict(call.params)
    query = parse_query(table, params)
    page = query_records(uow.session, table, query, actor, page_size=call.prefer.max_page_size)
    selected = f"({','.join(a.read_name for a in query.select)})" if query.select else ""
    content: dict[str, Any] = {"@odata.context": call.context(f"{table.entity_set}{selected}")}
    if page.count is not None:
        content["@odata.count"] = page.count
    content["value"] = call.renderer(uow, actor).entities(table, page.records, query.select, query.expand)
    if page.skiptoken is not None:
        following = {name: value for name, value in params.items() if name != "$skiptoken"}
        following["$skiptoken"] = page.skiptoken
        content["@odata.nextLink"] = f"{call.base}{table.entity_set}?{urlencode(following, safe='$,()')}"
    return _json(content)


def _function_parameters(call: Call) -> dict[str, Any]:
    """A function's parameters: inline (``Name='x'``) or as aliases (``Name=@p1`` with ``?@p1=...``)."""
    inside = call.segments[0].partition("(")[2].rstrip(")")
    values: dict[str, Any] = {}
    for part in split_top_level(inside):
        name, _, value = part.partition("=")
        value = value.strip()
        if value.startswith("@"):
            value = call.params.get(value, "null")
        try:
            values[name.strip()] = json.loads(value)
        except ValueError:
            values[name.strip()] = value[1:-1].replace("''", "'") if value[:1] == value[-1:] == "'" else value
    return values


def _retrieve_duplicates(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    parameters = _function_parameters(call)
    table, ids = actions.retrieve_duplicates(
        parameters.get("BusinessEntity"),
        parameters.get("MatchingEntityName"),
        parameters.get("PagingInfo"),
        uow=uow,
        actor=actor,
    )
    records = {record.id: record for record in uow.session.scalars(select(table.model).where(table.model.id.in_(ids)))}
    ordered = [records[record_id] for record_id in ids if record_id in records]
    value = call.renderer(uow, actor).entities(table, ordered, None)
    return _json({"@odata.context": call.context(table.entity_set), "value": value})


# ----------------------------------------------------------------------------------------------
# metadata


def _definitions(call: Call) -> Response:
    segments = call.segments
    params = call.params
    head = segments[0]
    if head == "EntityDefinitions":
        if len(segments) > 1:
            raise _unknown_segment(segments[1])
        definitions = metadata.entity_definitions(call.language)
        wanted = [item for item in definitions if _metadata_filter(params.get("$filter"), item)]
        return _json(
            {"@odata.context": call.context("EntityDefinitions"), "value": [_trim(item, params) for item in wanted]}
        )
    match = _DEFINITION.match(head)
    table = BY_LOGICAL_NAME.get(match.group("name")) if match else None
    if table is None:
        raise DataverseError(
            404,
            RECORD_NOT_FOUND,
            "Could not find an entity with the name %(name)s.",
            name=match.group("name") if match else head,
        )
    if len(segments) == 1:
        return _json(
            {
                "@odata.context": call.context("EntityDefinitions/$entity"),
                **_trim(metadata.entity_definition(table, call.language), params),
            }
        )
    part = segments[1]
    if part == "Attributes":
        kind = segments[2] if len(segments) > 2 else None
        if len(segments) > 3:
            raise _unknown_segment(segments[3])
        items = metadata.attributes(table, call.language, kind=kind)
        items = [item for item in items if _metadata_filter(params.get("$filter"), item)]
        return _json(
            {"@odata.context": call.context("EntityDefinitions/Attributes"), "value": [_trim(i, params) for i in items]}
        )
    attribute_match = _ATTRIBUTE.match(part)
    if attribute_match is not None:
        attribute = table.attribute(attribute_match.group("name"))
        if attribute is None or attribute.name != attribute_match.group("name"):
            raise DataverseError(
                404,
                RECORD_NOT_FOUND,
                "Could not find an attribute with the name %(name)s.",
                name=attribute_match.group("name"),
            )
        return _json(_trim(metadata.attribute_metadata(table, attribute, call.language), params))
    if part == "Keys":
        return _json({"@odata.context": call.context("EntityDefinitions/Keys"), "value": []})
    if part in ("OneToManyRelationships", "ManyToOneRelationships"):
        items = metadata.relationships(table, call.language, many_to_one=part == "ManyToOneRelationships")
        return _json(
            {"@odata.context": call.context(f"EntityDefinitions/{part}"), "value": [_trim(i, params) for i in items]}
        )
    raise _unknown_segment(part)


def _trim(item: dict[str, Any], params: Any) -> dict[str, Any]:
    """A metadata item cut to $select (with its type and id), its OptionSet to $expand's own select."""
    select = params.get("$select")
    if not select:
        return item
    names = {name.strip() for name in select.split(",")} | {"@odata.type", "MetadataId"}
    trimmed = {key: value for key, value in item.items() if key in names}
    expand = params.get("$expand") or ""
    for name in ("OptionSet", "GlobalOptionSet"):
        if expand.startswith(name) and name in item:
            trimmed[name] = item[name]
    return trimmed


def _metadata_filter(text: str | None, item: dict[str, Any]) -> bool:
    """A metadata $filter (``LogicalName eq 'lead'``, ``IsPrivate eq false``, with and/or/not)."""
    if not text:
        return True
    from odata_query import ast as odata
    from odata_query.grammar import ODataLexer, ODataParser

    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except Exception:  # noqa: BLE001 - any parse failure of a client's filter is the client's 400
        raise bad_request("The $filter could not be read.") from None

    def value(node: Any) -> Any:
        if isinstance(node, odata.Identifier):
            return item.get(node.name)
        if isinstance(node, odata.Boolean):
            return node.val == "true"
        if isinstance(node, odata.Null):
            return None
        if isinstance(node, (odata.String, odata.Integer)):
            return node.py_val
        if isinstance(node, odata.List):
            return [value(part) for part in node.val]
        raise bad_request("This metadata $filter is not supported.")

    def test(node: Any) -> bool:
        if isinstance(node, odata.BoolOp):
            left, right = test(node.left), test(node.right)
            return left and right if isinstance(node.op, odata.And) else left or right
        if isinstance(node, odata.UnaryOp) and isinstance(node.op, odata.Not):
            return not test(node.operand)
        if isinstance(node, odata.Compare):
            left, right = value(node.left), value(node.right)
            if isinstance(node.comparator, odata.Eq):
                return bool(left == right)
            if isinstance(node.comparator, odata.NotEq):
                return bool(left != right)
            if isinstance(node.comparator, odata.In):
                return left in right
        raise bad_request("This metadata $filter is not supported.")

    return test(tree)


def _message_filters(call: Call) -> Response:
    """sdkmessagefilters: which of CreateMultiple / UpdateMultiple a table has (dataverse-api asks)."""
    text = call.params.get("$filter") or ""
    match = re.search(r"primaryobjecttypecode eq '(\w+)'", text)
    table = BY_LOGICAL_NAME.get(match.group(1)) if match else None
    messages = ("CreateMultiple", "UpdateMultiple") if table is not None and table.writer is not None else ()
    value = [
        {
            "sdkmessagefilterid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"leadflow:{table.logical}:{name}")),
            "sdkmessageid": {"name": name},
        }
        for name in messages
        if table is not None and f"'{name}'" in text
    ]
    return _json({"@odata.context": call.context("sdkmessagefilters"), "value": value})


# ----------------------------------------------------------------------------------------------
# POST


def _post(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    segments = call.segments
    if not segments:
        raise bad_request("POST to an entity set (such as leads) or an action.")
    head = segments[0]
    if head == "$batch":
        raise bad_request("A $batch cannot hold another $batch.")
    body = call.body if call.body is not None else {}
    head = head if head in BY_ENTITY_SET or "(" in head else head.removeprefix(_ACTION_PREFIX)
    if head in ("WinOpportunity", "LoseOpportunity", "Merge") and len(segments) == 1:
        if not isinstance(body, dict):
            raise invalid("%(action)s takes a JSON object of parameters.", action=head)
        if head == "Merge":
            actions.merge(body, uow=uow, actor=actor, suppress=call.suppress_duplicates)
        else:
            actions.close_opportunity(body, won=head == "WinOpportunity", uow=uow, actor=actor)
        return Response(status_code=204)
    if head in BY_ENTITY_SET:
        table = BY_ENTITY_SET[head]
        if len(segments) == 1:
            return _create(call, uow, actor, table, body)
        action = segments[1].removeprefix(_ACTION_PREFIX)
        if len(segments) == 2 and action in ("CreateMultiple", "UpdateMultiple") and table.writer is not None:
            if action == "CreateMultiple":
                ids = actions.create_multiple(table, body, uow=uow, actor=actor, suppress=call.suppress_duplicates)
                return _json(
                    {"@odata.context": call.context("Microsoft.Dynamics.CRM.CreateMultipleResponse"), "Ids": ids}
                )
            actions.update_multiple(table, body, uow=uow, actor=actor, suppress=call.suppress_duplicates)
            return Response(status_code=204)
        raise _unknown_segment(segments[1])
    table, record_id = _record_address(head)
    if len(segments) == 2 and segments[1].removeprefix(_ACTION_PREFIX) == "QualifyLead" and table is LEAD:
        if not isinstance(body, dict):
            raise invalid("QualifyLead takes a JSON object of parameters.")
        created = actions.qualify_lead(record_id, body, uow=uow, actor=actor, suppress=call.suppress_duplicates)
        return _json(
            {"@odata.context": call.context("Collection(Microsoft.Dynamics.CRM.crmbaseentity)"), "value": created}
        )
    raise _unknown_segment(segments[1] if len(segments) > 1 else head)


def _writable(table: Table) -> Any:
    if table.writer is None:
        raise DataverseError(
            405, BAD_SEGMENT, "The %(set)s entity set is read-only through this API.", set=table.entity_set
        )
    return table.writer


def _create(
    call: Call, uow: UnitOfWork, actor: Actor, table: Table, body: Any, *, record_id: uuid.UUID | None = None
) -> Response:
    writer = _writable(table)
    changes = read_body(table, body, session=uow.session, creating=True)
    if changes.state is not None:
        raise invalid("A new %(table)s starts open: leave statecode out.", table=table.logical)
    if changes.status is not None and table is not OPPORTUNITY:
        raise invalid("A new %(table)s starts open: leave statuscode out.", table=table.logical)
    data = creation_input(table, changes.values)
    chosen = {} if record_id is None else {"record_id": record_id}
    record = writer.create(data, uow=uow, actor=actor, suppress_duplicates=call.suppress_duplicates, **chosen)
    uow.flush()
    address = f"{call.base}{table.entity_set}({record.id})"
    headers = {"OData-EntityId": address, "Location": address}
    content = None
    if call.prefer.representation:
        select = parse_select(table, call.params.get("$select"))
        entity = call.renderer(uow, actor).entities(table, [record], select)[0]
        content = {"@odata.context": call.context(f"{table.entity_set}/$entity"), **entity}
    if content is None:
        return Response(status_code=204, headers=headers)
    return _json(
        content, 201, {**headers, "Preference-Applied": "return=representation", "ETag": content["@odata.etag"]}
    )


# ----------------------------------------------------------------------------------------------
# PATCH and DELETE


def _record_to_write(call: Call) -> tuple[Table, uuid.UUID, Any]:
    """The table, id and writer of the one record a PATCH or DELETE addresses."""
    if len(call.segments) != 1:
        raise _unknown_segment(call.segments[-1] if call.segments else "")
    table, record_id = _record_address(call.segments[0])
    return table, record_id, _writable(table)


def _patch(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    table, record_id, writer = _record_to_write(call)
    sent_if_match, expected = _if_match(call)
    found = exists(uow.session, table, record_id)
    if (call.header("if-none-match") or "").strip() == "*" and found:
        raise DataverseError(412, ALREADY_EXISTS, "A record with matching key values already exists.")
    if not found:
        if sent_if_match:
            raise record_missing(table, record_id)
        if held_elsewhere(uow.session, table, record_id):
            raise invalid("%(id)s is the id of a record of another table; choose a new id.", id=record_id)
        # No condition, or If-None-Match: *: an upsert creates the record with the id of the address.
        body = call.body if isinstance(call.body, dict) else {}
        if str(body.get(table.primary_id, record_id)) != str(record_id):
            raise invalid("The body names another %(key)s than the address.", key=table.primary_id)
        fields = {key: value for key, value in body.items() if key != table.primary_id}
        return _create(call, uow, actor, table, fields, record_id=record_id)
    body = call.body if call.body is not None else {}
    changes = read_body(table, body, session=uow.session, creating=False)
    if changes.record_id is not None and changes.record_id != record_id:
        raise invalid("The body names another %(key)s than the address.", key=table.primary_id)
    if table is LEAD and (changes.state is not None or changes.status is not None):
        _change_lead_state(call, uow, actor, record_id, changes, expected)
    elif writer.set_state is not None and changes.state is not None:
        _change_state(call, uow, actor, table, record_id, changes, expected)
    else:
        _refuse_state_change(table, changes, uow, record_id)
        data = validated(table, writer.update_input, changes.values)
        writer.update(
            record_id,
            data,
            uow=uow,
            actor=actor,
            expected_version=expected,
            suppress_duplicates=call.suppress_duplicates,
        )
    uow.flush()
    content = None
    if call.prefer.representation:
        record = get_readable(uow.session, table, record_id, actor)
        select = parse_select(table, call.params.get("$select"))
        entity = call.renderer(uow, actor).entities(table, [record], select)[0]
        content = {"@odata.context": call.context(f"{table.entity_set}/$entity"), **entity}
    address = f"{call.base}{table.entity_set}({record_id})"
    if content is None:
        return Response(status_code=204, headers={"OData-EntityId": address})
    return _json(content, 200, {"OData-EntityId": address, "Preference-Applied": "return=representation"})


def _change_state(
    call: Call, uow: UnitOfWork, actor: Actor, table: Table, record_id: uuid.UUID, changes: Any, expected: int | None
) -> None:
    """Close (complete, cancel) or reopen a record through statecode, with its other changes: made
    while it is open (before closing it, after reopening it)."""
    writer = table.writer
    assert writer is not None and writer.set_state is not None
    state, status = state_values(table, changes)
    fields = {name: value for name, value in changes.values.items() if name != "status_reason"}
    reopening = state == table.attribute("statecode").options.member_of(0)  # type: ignore[union-attr]
    if reopening:
        writer.set_state(record_id, state, None, uow=uow, actor=actor, expected_version=expected)
        if changes.values:
            data = validated(table, writer.update_input, changes.values)
            writer.update(record_id, data, uow=uow, actor=actor, suppress_duplicates=call.suppress_duplicates)
        return
    if fields:
        data = validated(table, writer.update_input, fields)
        writer.update(
            record_id,
            data,
            uow=uow,
            actor=actor,
            expected_version=expected,
            suppress_duplicates=call.suppress_duplicates,
        )
        expected = None
    writer.set_state(record_id, state, status, uow=uow, actor=actor, expected_version=expected)


def _refuse_state_change(table: Table, changes: Any, uow: UnitOfWork, record_id: uuid.UUID) -> None:
    """statecode changes only what leadflow changes by a state; the same state is no change. A
    statuscode that an update writes (an opportunity's or an activity's open reasons) is the update's."""
    status_attribute = table.attribute("statuscode")
    status_is_written = status_attribute is not None and status_attribute.writes is not None
    if changes.state is None and (changes.status is None or status_is_written):
        return
    state, status = state_values(table, changes)
    record = uow.session.get(table.model, record_id)
    current = getattr(record, "state", None)
    if (state is None or state == current) and (status is None or status_is_written or status == current):
        return
    if table is OPPORTUNITY:
        raise invalid("Close an opportunity with the WinOpportunity or LoseOpportunity action, not with statecode.")
    raise invalid("leadflow does not change the statecode of a %(table)s through this API.", table=table.logical)


def _change_lead_state(
    call: Call, uow: UnitOfWork, actor: Actor, lead_id: uuid.UUID, changes: Any, expected: int | None
) -> None:
    """Disqualify (statecode 2), reactivate (statecode 0) or keep a lead's state, with any field changes."""
    state, status = state_values(LEAD, changes)
    if status is not None and state is not None and status.state is not state:
        raise invalid(
            "statuscode %(reason)s does not belong to statecode %(state)s.", reason=changes.status, state=changes.state
        )
    target = state or (status.state if status is not None else None)
    lead = leads.get_lead(lead_id, uow=uow, actor=actor)
    if expected is not None and lead.row_version != expected:
        raise DataverseError(
            412, STALE_VERSION, "The version of the existing record doesn't match the RowVersion property provided."
        )
    writer = LEAD.writer
    assert writer is not None

    def update_fields() -> None:
        if changes.values:
            data = validated(LEAD, writer.update_input, changes.values)
            writer.update(lead_id, data, uow=uow, actor=actor, suppress_duplicates=call.suppress_duplicates)

    if target is LeadState.QUALIFIED:
        if lead.state is LeadState.QUALIFIED:
            update_fields()
            return
        raise invalid("Qualify a lead with the QualifyLead action, not with statecode.")
    if target is LeadState.DISQUALIFIED:
        reason = status or LeadStatusReason.LOST
        if lead.state is LeadState.DISQUALIFIED and lead.status_reason is reason and not changes.values:
            return
        update_fields()
        leads.disqualify_lead(lead_id, reason, uow=uow, actor=actor)
        return
    # Open: reactivate a closed lead; an open one keeps its state (New/Contacted are leadflow's to set).
    if lead.state is not LeadState.OPEN:
        leads.reactivate_lead(lead_id, uow=uow, actor=actor)
    elif status is not None and status is not lead.status_reason:
        raise invalid("leadflow sets New and Contacted itself: leave statuscode out for an open lead.")
    update_fields()


def _delete(call: Call, uow: UnitOfWork, actor: Actor) -> Response:
    table, record_id, writer = _record_to_write(call)
    _, expected = _if_match(call)
    if not exists(uow.session, table, record_id):
        raise record_missing(table, record_id)
    writer.delete(record_id, uow=uow, actor=actor, expected_version=expected)
    return Response(status_code=204)


@router.api_route(
    "/api/data/{version}/{path:path}", methods=["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]
)
async def web_api(request: Request, version: str, path: str) -> Response:
    """Every Web API request: read (GET), create or run an action (POST), update (PATCH), delete."""
    call = await _call(request, version, path)
    return await run_in_threadpool(serve, call)


def install_dataverse(app: Any) -> None:
    """Add the Web API to an application."""
    app.include_router(router)
