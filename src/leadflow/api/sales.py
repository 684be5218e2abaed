"""Lead to order: an opportunity's products; quotes, orders and invoices with their lines, their life
and their PDFs; and the sales settings (the company printed on them, how they are numbered).

A line answers with its own ETag: send it in If-Match to change or remove that line. Adding, changing
or removing a line changes the totals and the ETag of its opportunity or document too: read that
again for them. Only a draft quote, an active order and an active invoice change (409
``document_closed`` otherwise).

(No ``from __future__ import annotations`` here: FastAPI reads the body types from the closures.)
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.api.transfer import reader_language
from leadflow.catalog.schemas import LineCreate, LineOut, LineUpdate
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.schemas import OpportunityOut
from leadflow.organisation.schemas import SalesSettingsChange, SalesSettingsOut
from leadflow.organisation.service import read_settings, update_settings
from leadflow.sales import numbering as numbering_service
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, DocumentNumbering
from leadflow.sales.printing import document_pdf
from leadflow.sales.schemas import (
    CloseQuote,
    FulfilOrder,
    InvoiceOut,
    InvoiceUpdate,
    NumberingOut,
    NumberingUpdate,
    OrderOut,
    OrderUpdate,
    PayInvoice,
    QuoteCreate,
    QuoteOut,
    QuoteUpdate,
    WinQuote,
    WonQuoteOut,
)

router = APIRouter(tags=["sales"])

API = "/api/v1"
# A document printed (GET /{quotes|orders|invoices}/{id}/pdf), as the OpenAPI schema declares it.
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The document as a PDF file, to download.",
    }
}
PdfLanguage = Annotated[
    Literal["es", "en"] | None,
    Query(description="The language it is printed in; by default yours, else your browser's."),
]


def _answer(shape: type[BaseModel], record: Any, response: Response) -> Any:
    """A record in its output shape, with its ETag."""
    response.headers["ETag"] = record.etag
    return shape.model_validate(record)


def _stored(shape: type[BaseModel], record: Any, uow: UnitOfWork, response: Response) -> Any:
    """A record just committed, read back as stored: the answer is exactly what a GET answers next
    (quantities with the five decimals they are kept with, amounts with four)."""
    uow.session.expire_all()
    return _answer(shape, record, response)


def _created(shape: type[BaseModel], record: Any, uow: UnitOfWork, response: Response, path: str) -> Any:
    response.headers["Location"] = f"{API}/{path}/{record.id}"
    return _stored(shape, record, uow, response)


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------ opportunity products


@router.get("/opportunities/{opportunity_id}/products")
def list_opportunity_products(opportunity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> list[LineOut]:
    """The opportunity's product lines, in line order (its totals are on the opportunity)."""
    lines = sales.opportunity_products(opportunity_id, uow=uow, actor=actor)
    return [LineOut.model_validate(line) for line in lines]


@router.post("/opportunities/{opportunity_id}/products", status_code=status.HTTP_201_CREATED)
def add_opportunity_product(
    opportunity_id: uuid.UUID,
    data: LineCreate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> LineOut:
    """Add a product to an open opportunity, priced from its price list (If-Match: the opportunity's
    ETag). Answers the line with its ETag; the opportunity's totals and ETag change."""
    line = sales.add_opportunity_product(opportunity_id, data, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(LineOut, line, uow, response)


@router.patch("/opportunities/{opportunity_id}/products/{line_id}")
def change_opportunity_product(
    opportunity_id: uuid.UUID,
    line_id: uuid.UUID,
    changes: LineUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> LineOut:
    """Change a product line of an open opportunity (If-Match: the line's ETag); it is priced again."""
    line = sales.update_opportunity_product(
        opportunity_id, line_id, changes, uow=uow, actor=actor, expected_version=version
    )
    uow.commit()
    return _stored(LineOut, line, uow, response)


@router.delete("/opportunities/{opportunity_id}/products/{line_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_opportunity_product(
    opportunity_id: uuid.UUID, line_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion
) -> Response:
    """Remove a product line from an open opportunity (If-Match: the line's ETag)."""
    sales.delete_opportunity_product(opportunity_id, line_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _no_content()


@router.post("/opportunities/{opportunity_id}/quotes", status_code=status.HTTP_201_CREATED)
def quote_opportunity(opportunity_id: uuid.UUID, uow: UowDep, actor: CurrentActor, response: Response) -> QuoteOut:
    """A draft quote for an open opportunity, with copies of its products, its price list, currency,
    discount, freight and customer (whose address it takes)."""
    quote = sales.quote_from_opportunity(opportunity_id, uow=uow, actor=actor)
    uow.commit()
    return _created(QuoteOut, quote, uow, response, "quotes")


@router.get("/opportunities/{opportunity_id}/quotes")
def list_opportunity_quotes(
    opportunity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[QuoteOut]:
    """The quotes of an opportunity you may read, oldest first."""
    page = sales.list_documents(
        DocumentKind.QUOTE, uow=uow, actor=actor, limit=limit, cursor=cursor, opportunity_id=opportunity_id
    )
    return PageOut[QuoteOut].model_validate(page_out(page, QuoteOut.model_validate))


# ------------------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class DocumentEndpoints:
    """What the routes every kind of document shares need to know of one kind."""

    kind: DocumentKind
    path: str
    out_schema: type[BaseModel]
    update_schema: type[BaseModel]


def add_document_routes(endpoints: DocumentEndpoints) -> None:
    """List, read, change (If-Match), delete (If-Match), lines and PDF routes of one kind of document."""
    kind, path, noun = endpoints.kind, endpoints.path, endpoints.kind.value
    Out = endpoints.out_schema
    Update = endpoints.update_schema
    DocumentPage = PageOut[Out]  # type: ignore[valid-type]
    a_document = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    # The id is named after the kind (quote_id...), as in the routes of each kind's life.
    DocumentId = Annotated[uuid.UUID, Path(alias=f"{noun}_id")]
    one = f"/{path}/{{{noun}_id}}"

    @router.get(f"/{path}", summary=f"List {path}")
    def list_(uow: ReadUowDep, actor: CurrentActor, limit: Limit = 50, cursor: Cursor = None) -> DocumentPage:
        """The documents you may read, oldest first."""
        page = sales.list_documents(kind, uow=uow, actor=actor, limit=limit, cursor=cursor)
        return DocumentPage.model_validate(page_out(page, Out.model_validate))

    @router.get(one, summary=f"Read {a_document}")
    def read(document_id: DocumentId, uow: ReadUowDep, actor: CurrentActor, response: Response) -> Out:  # type: ignore[valid-type]
        """One document with its lines and totals."""
        return _answer(Out, sales.document(kind, document_id, uow=uow, actor=actor), response)

    @router.patch(one, summary=f"Change {a_document}")
    def change(
        document_id: DocumentId,
        changes: Update,  # type: ignore[valid-type]
        uow: UowDep,
        actor: CurrentActor,
        version: ExpectedVersion,
        response: Response,
    ) -> Out:  # type: ignore[valid-type]
        """Change the given fields of a document still editable; its totals follow."""
        record = sales.update_document(kind, document_id, changes, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _stored(Out, record, uow, response)

    @router.delete(one, status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete {a_document}")
    def delete(document_id: DocumentId, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
        """Delete a document still editable, with its lines (409 once it is not)."""
        sales.delete_document(kind, document_id, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _no_content()

    @router.post(f"{one}/lines", status_code=status.HTTP_201_CREATED, summary=f"Add a line to {a_document}")
    def add_line(
        document_id: DocumentId,
        data: LineCreate,
        uow: UowDep,
        actor: CurrentActor,
        version: ExpectedVersion,
        response: Response,
    ) -> LineOut:
        """Add a product line (If-Match: the document's ETag). Answers the line with its ETag; the
        document's totals and ETag change."""
        line = sales.add_document_line(kind, document_id, data, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _stored(LineOut, line, uow, response)

    @router.patch(f"{one}/lines/{{line_id}}", summary=f"Change a line of {a_document}")
    def change_line(
        document_id: DocumentId,
        line_id: uuid.UUID,
        changes: LineUpdate,
        uow: UowDep,
        actor: CurrentActor,
        version: ExpectedVersion,
        response: Response,
    ) -> LineOut:
        """Change a line (If-Match: the line's ETag); it is priced again and the totals follow."""
        line = sales.update_document_line(
            kind, document_id, line_id, changes, uow=uow, actor=actor, expected_version=version
        )
        uow.commit()
        return _stored(LineOut, line, uow, response)

    @router.delete(
        f"{one}/lines/{{line_id}}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary=f"Remove a line from {a_document}",
    )
    def remove_line(
        document_id: DocumentId, line_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion
    ) -> Response:
        """Remove a line (If-Match: the line's ETag); the totals follow."""
        sales.delete_document_line(kind, document_id, line_id, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _no_content()

    @router.get(
        f"{one}/pdf",
        response_class=Response,
        responses=PDF_RESPONSES,
        summary=f"Print {a_document}",
    )
    def pdf(
        document_id: DocumentId, uow: ReadUowDep, actor: CurrentActor, request: Request, language: PdfLanguage = None
    ) -> Response:
        """The document as a PDF to download, in Spanish or English."""
        printed = document_pdf(
            kind, document_id, uow=uow, actor=actor, language=language or reader_language(request, actor)
        )
        return Response(
            content=printed.content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{printed.filename}"',
                "X-Content-Type-Options": "nosniff",
            },
        )


# ------------------------------------------------------------------------------------------ quotes


@router.post("/quotes", status_code=status.HTTP_201_CREATED)
def create_quote(data: QuoteCreate, uow: UowDep, actor: CurrentActor, response: Response) -> QuoteOut:
    """A draft quote on its own, for an account or a contact (in the base currency unless named)."""
    quote = sales.create_quote(data, uow=uow, actor=actor)
    uow.commit()
    return _created(QuoteOut, quote, uow, response, "quotes")


add_document_routes(DocumentEndpoints(DocumentKind.QUOTE, "quotes", QuoteOut, QuoteUpdate))


@router.post("/quotes/{quote_id}/revise", status_code=status.HTTP_201_CREATED)
def revise_quote(
    quote_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> QuoteOut:
    """Close an active quote as Revised and answer the new draft: same number, next revision."""
    revised = sales.revise_quote(quote_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _created(QuoteOut, revised, uow, response, "quotes")


@router.post("/quotes/{quote_id}/win")
def win_quote(
    quote_id: uuid.UUID, data: WinQuote, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> WonQuoteOut:
    """Win an active quote; by default close its opportunity as won (the quote's total as actual
    revenue) and create the order, all or nothing."""
    quote, order, opportunity = sales.win_quote(quote_id, data, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    uow.session.expire_all()
    response.headers["ETag"] = quote.etag
    return WonQuoteOut(
        quote=QuoteOut.model_validate(quote),
        order=OrderOut.model_validate(order) if order is not None else None,
        opportunity=OpportunityOut.model_validate(opportunity) if opportunity is not None else None,
    )


def add_follow_up_route(
    kind: DocumentKind, step: str, doc: str, service: Callable[..., Any], shape: type[BaseModel]
) -> None:
    """POST /{path}/{id}/{step}: create the document that follows one (an order from a quote, an
    invoice from an order) by ``service``; answers it (201) with its Location."""
    noun = kind.value
    Out = shape
    DocumentId = Annotated[uuid.UUID, Path(alias=f"{noun}_id")]
    route = f"/{noun}s/{{{noun}_id}}/{step}"

    @router.post(route, status_code=status.HTTP_201_CREATED, name=f"{step}_{noun}", description=doc)
    def follow_up(document_id: DocumentId, uow: UowDep, actor: CurrentActor, response: Response) -> Out:  # type: ignore[valid-type]
        created = service(document_id, uow=uow, actor=actor)
        uow.commit()
        return _created(Out, created, uow, response, f"{created.kind.value}s")


add_follow_up_route(
    DocumentKind.QUOTE,
    "order",
    "Create the order of a won quote, with its lines and prices, locked (409 ``quote_not_won``).",
    sales.order_from_quote,
    OrderOut,
)


# ------------------------------------------------------------------------------------------ orders

add_document_routes(DocumentEndpoints(DocumentKind.ORDER, "orders", OrderOut, OrderUpdate))


add_follow_up_route(
    DocumentKind.ORDER,
    "invoice",
    "Create an invoice from an order that is not canceled, with its lines and prices.",
    sales.invoice_from_order,
    InvoiceOut,
)


# ---------------------------------------------------------------------------------------- invoices

add_document_routes(DocumentEndpoints(DocumentKind.INVOICE, "invoices", InvoiceOut, InvoiceUpdate))


# ------------------------------------------------------------------------ transitions of each kind


def add_transition_route(
    kind: DocumentKind,
    step: str,
    doc: str,
    service: Callable[..., Any],
    body: type[BaseModel] | None = None,
) -> None:
    """POST /{path}/{id}/{step} (If-Match): one step in the life of a document, by ``service`` (with
    the request ``body`` when it takes one); answers the document as stored, with its ETag."""
    path, noun = f"{kind.value}s", kind.value
    shapes: dict[DocumentKind, type[BaseModel]] = {
        DocumentKind.QUOTE: QuoteOut,
        DocumentKind.ORDER: OrderOut,
        DocumentKind.INVOICE: InvoiceOut,
    }
    Out = shapes[kind]
    DocumentId = Annotated[uuid.UUID, Path(alias=f"{noun}_id")]
    route = router.post(f"/{path}/{{{noun}_id}}/{step}", name=f"{step}_{noun}", description=doc)

    if body is None:

        @route
        def plain(
            document_id: DocumentId, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
        ) -> Out:  # type: ignore[valid-type]
            document = service(document_id, uow=uow, actor=actor, expected_version=version)
            uow.commit()
            return _stored(Out, document, uow, response)

        return
    Body = body

    @route
    def with_body(
        document_id: DocumentId,
        data: Body,  # type: ignore[valid-type]
        uow: UowDep,
        actor: CurrentActor,
        version: ExpectedVersion,
        response: Response,
    ) -> Out:  # type: ignore[valid-type]
        document = service(document_id, data, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _stored(Out, document, uow, response)


TRANSITIONS: tuple[tuple[DocumentKind, str, str, Callable[..., Any], type[BaseModel] | None], ...] = (
    (
        DocumentKind.QUOTE,
        "activate",
        "A draft quote with lines becomes active and read-only: what the customer receives.",
        sales.activate_quote,
        None,
    ),
    (DocumentKind.QUOTE, "close", "Close an active quote as lost or canceled.", sales.close_quote, CloseQuote),
    (DocumentKind.ORDER, "submit", "Submit an active order for fulfilment.", sales.submit_order, None),
    (
        DocumentKind.ORDER,
        "fulfil",
        "Fulfil an active or submitted order, completely or partly.",
        sales.fulfil_order,
        FulfilOrder,
    ),
    (DocumentKind.ORDER, "cancel", "Cancel an active or submitted order.", sales.cancel_order, None),
    (DocumentKind.INVOICE, "pay", "Mark an active invoice paid, completely or partly.", sales.pay_invoice, PayInvoice),
    (DocumentKind.INVOICE, "cancel", "Cancel an active invoice.", sales.cancel_invoice, None),
)
for _transition in TRANSITIONS:
    add_transition_route(*_transition)


# ------------------------------------------------------------------------- price locks of orders, invoices


def add_price_lock_routes(kind: DocumentKind, path: str, shape: type[BaseModel]) -> None:
    """Lock the prices of an order or an invoice, or take the price lists' prices of today again."""
    DocumentId = Annotated[uuid.UUID, Path(alias=f"{kind.value}_id")]
    one = f"/{path}/{{{kind.value}_id}}"

    @router.post(f"{one}/lock-pricing", summary=f"Lock the prices of an {kind.value}")
    def lock_pricing(
        document_id: DocumentId, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
    ) -> shape:  # type: ignore[valid-type]
        """Keep the lines' prices as they are, whatever the price list says later."""
        record = sales.set_prices_locked(kind, document_id, locked=True, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return _stored(shape, record, uow, response)

    @router.post(f"{one}/unlock-pricing", summary=f"Use current pricing on an {kind.value}")
    def unlock_pricing(
        document_id: DocumentId, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
    ) -> shape:  # type: ignore[valid-type]
        """Price the lines from the price list again, at today's prices (overridden and write-in prices stay)."""
        record = sales.set_prices_locked(
            kind, document_id, locked=False, uow=uow, actor=actor, expected_version=version
        )
        uow.commit()
        return _stored(shape, record, uow, response)


add_price_lock_routes(DocumentKind.ORDER, "orders", OrderOut)
add_price_lock_routes(DocumentKind.INVOICE, "invoices", InvoiceOut)


# ---------------------------------------------------------------------------------------- settings


@router.get("/settings/sales", tags=["settings"])
def read_sales_settings(uow: ReadUowDep, actor: CurrentActor, response: Response) -> SalesSettingsOut:
    """The company printed at the top of every quote, order and invoice: its name and address."""
    return _answer(SalesSettingsOut, read_settings(uow=uow, actor=actor), response)


@router.patch("/settings/sales", tags=["settings"])
def change_sales_settings(
    data: SalesSettingsChange, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> SalesSettingsOut:
    """Change only the sales settings sent; the others stay (administrators)."""
    settings = update_settings(data.model_dump(exclude_unset=True), uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _stored(SalesSettingsOut, settings, uow, response)


def _numbering_out(row: DocumentNumbering) -> NumberingOut:
    return NumberingOut(
        kind=row.kind.value,
        prefix=row.prefix,
        next_number=row.next_number,
        digits=row.digits,
        example=numbering_service.format_number(row.prefix, row.next_number, row.digits),
    )


@router.get("/settings/numbering", tags=["settings"])
def read_numbering(uow: UowDep, actor: CurrentActor) -> list[NumberingOut]:
    """How quotes, orders and invoices are numbered: prefix, next number and an example (QUO-01000)."""
    rows = numbering_service.numbering(uow=uow, actor=actor)
    uow.commit()  # a kind never numbered before gets its row, with the default prefix
    return [_numbering_out(row) for row in rows]


@router.patch("/settings/numbering/{kind}", tags=["settings"])
def change_numbering(kind: DocumentKind, data: NumberingUpdate, uow: UowDep, actor: CurrentActor) -> NumberingOut:
    """Change the prefix or the next number of one kind of document (administrators); numbers
    already given stay, and a number taken twice is refused when the document is created (409)."""
    row = numbering_service.change_numbering(
        kind, prefix=data.prefix, next_number=data.next_number, uow=uow, actor=actor
    )
    uow.commit()
    return _numbering_out(row)
