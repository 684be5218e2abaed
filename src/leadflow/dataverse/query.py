"""OData query options of the Web API: $select, $filter, $orderby, $top, $count, $expand, paging.

$filter is parsed by odata-query (its lexer and parser give an AST) and compiled here to SQLAlchemy,
attribute by attribute through the table registry: a choice compares by its Dataverse value, a
lookup by the GUID of ``_x_value``, text case-insensitively as Dataverse does.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from odata_query import ast as odata
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy import AstToSqlAlchemyOrmVisitor
from sqlalchemy import ColumnElement, literal, null

from leadflow.dataverse.errors import PICKLIST_OUT_OF_RANGE, DataverseError, bad_request
from leadflow.dataverse.tables import BY_LOGICAL_NAME, Attribute, Kind, Table

# Dataverse's default and largest page.
MAX_PAGE_SIZE = 5000
# The longest $filter read: a query string longer than this is not a client's but an attack's.
MAX_FILTER_LENGTH = 8000
_OPTION_NAMES = {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$skip", "$apply"}
_IN_CALL = re.compile(
    r"Microsoft\.Dynamics\.CRM\.(?P<not>Not)?In\(\s*PropertyName\s*=\s*'(?P<name>\w+)'\s*,"
    r"\s*PropertyValues\s*=\s*\[(?P<values>[^\]]*)\]\s*\)"
)
_LIST_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\']|\'\')*)\'|([^,\s]+)')


@dataclass(frozen=True)
class Prefer:
    """What the Prefer header asks for."""

    representation: bool = False
    annotations: str | None = None  # the include-annotations pattern: "*", "OData.Community...", ...
    max_page_size: int = MAX_PAGE_SIZE

    @property
    def formatted_values(self) -> bool:
        return self.annotations is not None and _matches(self.annotations, "OData.Community.Display.V1.FormattedValue")

    @property
    def lookup_names(self) -> bool:
        return self.annotations is not None and _matches(self.annotations, "Microsoft.Dynamics.CRM.lookuplogicalname")


def _matches(pattern: str, annotation: str) -> bool:
    """Whether an include-annotations pattern (a comma list with * wildcards) names an annotation."""
    for part in pattern.split(","):
        part = part.strip()
        if part in ("*", annotation) or (part.endswith("*") and annotation.startswith(part[:-1])):
            return True
    return False


def parse_prefer(headers: list[str]) -> Prefer:
    """The Prefer headers, each a comma list; values quoted (the SDK) or not (dataverse-api)."""
    representation, annotations, size = False, None, MAX_PAGE_SIZE
    for header in headers:
        for preference in split_top_level(header):
            name, _, value = preference.strip().partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "return" and value == "representation":
                representation = True
            elif name == "odata.include-annotations":
                annotations = value
            elif name == "odata.maxpagesize":
                try:
                    size = max(1, min(int(value), MAX_PAGE_SIZE))
                except ValueError:
                    raise bad_request("odata.maxpagesize must be a whole number, not %(value)s.", value=value) from None
    return Prefer(representation=representation, annotations=annotations, max_page_size=size)


def split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes (OData's '…', JSON's "…" with its backslash escapes) and
    outside brackets of any kind; the parts stripped, empty ones dropped."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote, escaped = 0, "", False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in (p.strip() for p in parts) if part]


@dataclass(frozen=True)
class Expand:
    """One $expand of a single-valued navigation property."""

    attribute: Attribute
    target: str
    navigation: str
    select: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """The query options of one request, checked against the table."""

    select: tuple[Attribute, ...] | None = None
    where: ColumnElement[bool] | None = None
    order: tuple[tuple[Attribute, bool], ...] = ()  # (attribute, descending)
    top: int | None = None
    count: bool = False
    expand: tuple[Expand, ...] = ()
    skiptoken: dict[str, Any] = field(default_factory=dict)


def entity_type(table: Table) -> str:
    return f"Microsoft.Dynamics.CRM.{table.logical}"


def unknown_property(table: Table, name: str) -> DataverseError:
    return bad_request(
        "Could not find a property named '%(name)s' on type '%(type)s'.", name=name, type=entity_type(table)
    )


def _attribute(table: Table, name: str) -> Attribute:
    attribute = table.attribute(name.strip())
    if attribute is None or attribute.column is None:
        raise unknown_property(table, name.strip())
    return attribute


def parse_select(table: Table, text: str | None) -> tuple[Attribute, ...] | None:
    """$select: a comma list of logical names (a lookup by its ``_x_value`` name, or its own)."""
    if text is None or not text.strip():
        return None
    chosen: list[Attribute] = []
    for name in text.split(","):
        attribute = table.attribute(name.strip())
        if attribute is None:
            raise unknown_property(table, name.strip())
        if attribute not in chosen:
            chosen.append(attribute)
    return tuple(chosen)


def parse_orderby(table: Table, text: str | None) -> tuple[tuple[Attribute, bool], ...]:
    """$orderby: ``attr [asc|desc]``, comma separated."""
    if text is None or not text.strip():
        return ()
    order = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(
                "$orderby takes attribute names, each optionally followed by asc or desc: %(part)s", part=part
            )
        attribute = _attribute(table, words[0])
        order.append((attribute, len(words) == 2 and words[1].lower() == "desc"))
    return tuple(order)


def parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise bad_request("$top must be a whole number of 0 or more, not %(value)s.", value=text)
    return int(text)


def parse_expand(table: Table, text: str | None) -> tuple[Expand, ...]:
    """$expand of single-valued navigation properties, each with an optional ($select=...)."""
    if text is None or not text.strip():
        return ()
    expands = []
    for part in split_top_level(text):
        name, _, options = part.partition("(")
        name = name.strip()
        bound = table.navigation(name)
        if bound is None:
            raise bad_request(
                "Could not find a navigation property named '%(name)s' on type '%(type)s'.",
                name=name,
                type=entity_type(table),
            )
        select: tuple[str, ...] = ()
        options = options.rstrip(")").strip()
        if options:
            key, _, value = options.partition("=")
            if key.strip().lower() != "$select":
                raise bad_request("$expand takes only $select inside its parentheses: %(part)s", part=part)
            select = tuple(item.strip() for item in value.split(",") if item.strip())
            target = BY_LOGICAL_NAME.get(bound[1])
            for item in select:
                if target is not None and target.attribute(item) is None:
                    raise unknown_property(target, item)
        expands.append(Expand(bound[0], bound[1], name, select))
    return tuple(expands)


def parse_skiptoken(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        token = json.loads(base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4)))
        if not isinstance(token, dict):
            raise ValueError(token)
        return token
    except (ValueError, TypeError, UnicodeDecodeError):
        raise bad_request("The $skiptoken is not one this server gave; follow @odata.nextLink as it is.") from None


def make_skiptoken(token: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def parse_query(table: Table, params: Mapping[str, str]) -> Query:
    """The query options of a request to an entity set."""
    unknown = [name for name in params if name.startswith("$") and name not in _OPTION_NAMES]
    if unknown:
        raise bad_request("The query option %(name)s is not supported.", name=unknown[0])
    if "$skip" in params or "$apply" in params:
        name = "$skip" if "$skip" in params else "$apply"
        raise bad_request(
            "The query option %(name)s is not supported: page with Prefer: odata.maxpagesize and @odata.nextLink.",
            name=name,
        )
    count = params.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise bad_request("$count takes true or false, not %(value)s.", value=params["$count"])
    return Query(
        select=parse_select(table, params.get("$select")),
        where=compile_filter(table, params.get("$filter")),
        order=parse_orderby(table, params.get("$orderby")),
        top=parse_top(params.get("$top")),
        count=count == "true",
        expand=parse_expand(table, params.get("$expand")),
        skiptoken=parse_skiptoken(params.get("$skiptoken")),
    )


# ----------------------------------------------------------------------------------------------
# $filter


def _rewrite_in_calls(text: str) -> str:
    """``Microsoft.Dynamics.CRM.In(PropertyName='a',PropertyValues=["x","y"])`` (as the SDK writes
    it) as the standard ``a in ('x','y')``, which the parser reads."""

    def rewrite(match: re.Match[str]) -> str:
        values = []
        for double, single, bare in _LIST_VALUE.findall(match.group("values")):
            if double or (not single and not bare):
                values.append("'" + double.replace('\\"', '"') + "'")
            elif single:
                values.append(f"'{single}'")
            else:
                values.append(bare)
        if not values:
            raise bad_request("Microsoft.Dynamics.CRM.In needs at least one value in PropertyValues.")
        # One value in parentheses would read as a bracketed expression, not a list.
        condition = (
            f"{match.group('name')} eq {values[0]}"
            if len(values) == 1
            else f"{match.group('name')} in ({','.join(values)})"
        )
        return f"(not ({condition}))" if match.group("not") else f"({condition})"

    return _IN_CALL.sub(rewrite, text)


def compile_filter(table: Table, text: str | None) -> ColumnElement[bool] | None:
    """$filter compiled to a condition on the table's model."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FILTER_LENGTH:
        raise bad_request("The $filter is longer than %(most)s characters.", most=MAX_FILTER_LENGTH)
    rewritten = _rewrite_in_calls(text)
    if "Microsoft.Dynamics.CRM." in rewritten:
        name = rewritten.split("Microsoft.Dynamics.CRM.", 1)[1].split("(", 1)[0]
        raise bad_request("The query function Microsoft.Dynamics.CRM.%(name)s is not supported.", name=name)
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(rewritten))
        if not _is_condition(table, tree):
            raise bad_request("The $filter must be a condition, such as firstname eq 'Ana'.")
        condition = _FilterCompiler(table).visit(tree)
    except DataverseError:
        raise
    except (odata_errors.ODataException, ValueError, TypeError, AttributeError, RecursionError) as error:
        raise bad_request(
            "The $filter could not be read: %(problem)s", problem=str(error) or type(error).__name__
        ) from None
    if not isinstance(condition, ColumnElement):
        raise bad_request("The $filter must be a condition, such as firstname eq 'Ana'.")
    return condition


def _is_condition(table: Table, node: odata._Node) -> bool:
    """Whether a parsed $filter is true or false of a record: comparisons, functions that test text,
    a yes/no attribute, joined by and/or/not (a bare literal or number is not)."""
    if isinstance(node, odata.Compare):
        return True
    if isinstance(node, odata.BoolOp):
        return _is_condition(table, node.left) and _is_condition(table, node.right)
    if isinstance(node, odata.UnaryOp):
        return isinstance(node.op, odata.Not) and _is_condition(table, node.operand)
    if isinstance(node, odata.Call):
        return node.func.name.lower() in ("contains", "startswith", "endswith")
    if isinstance(node, odata.Identifier):
        attribute = table.attribute(node.name)
        return attribute is not None and attribute.kind is Kind.BOOLEAN
    return False


class _FilterCompiler(AstToSqlAlchemyOrmVisitor):
    """odata-query's SQLAlchemy compiler, reading names and values through the table registry."""

    def __init__(self, table: Table) -> None:
        super().__init__(table.model)
        self.table = table

    def visit_Identifier(self, node: odata.Identifier) -> Any:
        attribute = _attribute(self.table, node.name)
        return getattr(self.table.model, attribute.column or "")

    def visit_Attribute(self, node: odata.Attribute) -> Any:
        raise bad_request("Filtering on a related record's attributes (%(attr)s) is not supported.", attr=node.attr)

    def visit_GUID(self, node: odata.GUID) -> Any:
        return literal(uuid.UUID(node.val))

    def visit_DateTime(self, node: odata.DateTime) -> Any:
        moment = node.py_val
        return literal(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    def visit_Compare(self, node: odata.Compare) -> Any:
        left, right = node.left, node.right
        if isinstance(right, odata.Identifier) and not isinstance(left, odata.Identifier):
            left, right = right, left
            node = odata.Compare(_flipped(node.comparator), left, right)
        if isinstance(left, odata.Identifier):
            attribute = _attribute(self.table, left.name)
            column = self.visit(left)
            operator = self.visit(node.comparator)
            if isinstance(right, odata.List):
                values = [_value(self.table, attribute, item) for item in right.val]
                return column.in_(values)
            if isinstance(right, odata.Null):
                return operator(column, null())
            if isinstance(right, odata.Identifier):
                return operator(column, self.visit(right))
            return operator(column, literal(_value(self.table, attribute, right), column.type))
        return super().visit_Compare(node)

    def _substr_function(self, field: odata._Node, substr: odata._Node, func: str) -> Any:
        if not isinstance(field, odata.Identifier) or not isinstance(substr, odata.String):
            raise bad_request("%(function)s takes an attribute name and a text in quotes.", function=func)
        column = self.visit(field)
        text = substr.py_val
        return {"contains": column.icontains, "startswith": column.istartswith, "endswith": column.iendswith}[func](
            text, autoescape=True
        )


def _flipped(comparator: odata._Comparator) -> odata._Comparator:
    swaps = {odata.Lt: odata.Gt, odata.Gt: odata.Lt, odata.LtE: odata.GtE, odata.GtE: odata.LtE}
    return swaps.get(type(comparator), type(comparator))()


def _value(table: Table, attribute: Attribute, node: odata._Node) -> Any:
    """A literal of $filter as the value stored in ``attribute``'s column."""
    raw = getattr(node, "val", None)
    if isinstance(node, odata.Null):
        return None
    if attribute.options is not None:
        try:
            number = int(str(raw)) if isinstance(node, (odata.Integer, odata.String)) else None
        except ValueError:
            number = None
        member = attribute.options.member_of(number) if number is not None else None
        if member is None:
            raise DataverseError(
                400,
                PICKLIST_OUT_OF_RANGE,
                "The value %(value)s of '%(name)s' is outside the valid range of its options.",
                value=raw,
                name=attribute.name,
            )
        return member
    if attribute.kind in (Kind.ID, Kind.LOOKUP, Kind.CUSTOMER, Kind.OWNER):
        try:
            return uuid.UUID(str(raw))
        except ValueError:
            raise bad_request(
                "'%(name)s' compares with a GUID, not %(value)s.", name=attribute.name, value=raw
            ) from None
    if attribute.kind in (Kind.MONEY, Kind.DECIMAL):
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            raise bad_request(
                "'%(name)s' compares with a number, not %(value)s.", name=attribute.name, value=raw
            ) from None
    if attribute.kind in (Kind.INTEGER, Kind.BIGINT):
        if not isinstance(node, odata.Integer):
            raise bad_request("'%(name)s' compares with a whole number, not %(value)s.", name=attribute.name, value=raw)
        return int(node.val)
    if attribute.kind is Kind.BOOLEAN:
        if not isinstance(node, odata.Boolean):
            raise bad_request("'%(name)s' compares with true or false, not %(value)s.", name=attribute.name, value=raw)
        return node.val == "true"
    if attribute.kind is Kind.DATETIME:
        if isinstance(node, odata.DateTime):
            moment = node.py_val
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if isinstance(node, odata.Date):
            return datetime.combine(node.py_val, datetime.min.time(), tzinfo=UTC)
        raise bad_request("'%(name)s' compares with a date and time, not %(value)s.", name=attribute.name, value=raw)
    if attribute.kind is Kind.DATE:
        if isinstance(node, odata.Date):
            return node.py_val
        if isinstance(node, odata.DateTime):
            return node.py_val.date()
        raise bad_request("'%(name)s' compares with a date, not %(value)s.", name=attribute.name, value=raw)
    if not isinstance(node, odata.String):
        raise bad_request("'%(name)s' compares with a text in quotes, not %(value)s.", name=attribute.name, value=raw)
    return node.py_val
