"""A document as it is printed: the ``PrintedDocument`` view of a quote, order or invoice, in the
reader's language, drawn as a PDF by ``leadflow.sales.pdf`` and as HTML by the web app's print page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, tzinfo

from leadflow.core.formatting import local_moment
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import PaymentTerms
from leadflow.organisation.service import get_settings, time_zone_of
from leadflow.sales.models import DocumentKind, SalesDocument
from leadflow.sales.pdf import render_pdf
from leadflow.sales.printed import PrintedDocument, PrintedLine, PrintedTotals
from leadflow.sales.service import MODELS, customer_of, document
from leadflow.security.actor import Actor

# State and status reason names as printed, by language (Dynamics' labels). In Spanish they agree with
# the document: "oferta" and "factura" are feminine, "pedido" is masculine.
_FEMININE_ES = {
    "draft": "Borrador",
    "active": "Activa",
    "won": "Ganada",
    "closed": "Cerrada",
    "canceled": "Cancelada",
    "paid": "Pagada",
    "in_progress": "En curso",
    "open": "Abierta",
    "lost": "Perdida",
    "revised": "Revisada",
    "new": "Nueva",
    "complete": "Completa",
    "partial": "Parcial",
}
_MASCULINE_ES = {
    "active": "Activo",
    "submitted": "Enviado",
    "canceled": "Cancelado",
    "fulfilled": "Completado",
    "in_progress": "En curso",
    "new": "Nuevo",
    "pending": "Pendiente",
    "no_money": "Sin fondos",
    "complete": "Completo",
    "partial": "Parcial",
}
_ENGLISH = {
    "draft": "Draft",
    "active": "Active",
    "won": "Won",
    "closed": "Closed",
    "submitted": "Submitted",
    "canceled": "Canceled",
    "fulfilled": "Fulfilled",
    "paid": "Paid",
    "in_progress": "In progress",
    "open": "Open",
    "lost": "Lost",
    "revised": "Revised",
    "new": "New",
    "pending": "Pending",
    "no_money": "No money",
    "complete": "Complete",
    "partial": "Partial",
}
STATUS_LABELS: dict[str, dict[DocumentKind, dict[str, str]]] = {
    "es": {DocumentKind.QUOTE: _FEMININE_ES, DocumentKind.ORDER: _MASCULINE_ES, DocumentKind.INVOICE: _FEMININE_ES},
    "en": dict.fromkeys(DocumentKind, _ENGLISH),
}
PAYMENT_TERMS_LABELS: dict[str, dict[PaymentTerms, str]] = {
    "es": {
        PaymentTerms.NET_30: "30 días netos",
        PaymentTerms.TWO_PERCENT_10_NET_30: "2 % 10, 30 días netos",
        PaymentTerms.NET_45: "45 días netos",
        PaymentTerms.NET_60: "60 días netos",
    },
    "en": {
        PaymentTerms.NET_30: "Net 30",
        PaymentTerms.TWO_PERCENT_10_NET_30: "2% 10, Net 30",
        PaymentTerms.NET_45: "Net 45",
        PaymentTerms.NET_60: "Net 60",
    },
}


def _language(language: str | None) -> str:
    return language if language in STATUS_LABELS else "en"


def status_text(record: SalesDocument, language: str | None) -> str:
    """The state and status reason as a reader of ``language`` reads them: "Activo · En curso"."""
    labels = STATUS_LABELS[_language(language)][record.kind]
    state, reason = record.state.value, record.status_reason.value  # type: ignore[attr-defined]
    return labels[state] if labels[state] == labels.get(reason) else f"{labels[state]} · {labels[reason]}"


def printed_view(
    record: SalesDocument, *, uow: UnitOfWork, language: str | None, time_zone: tzinfo = UTC
) -> PrintedDocument:
    """The printed view of a document already read; its date is the day it was made in ``time_zone``
    (the reader's)."""
    session = uow.session
    settings = get_settings(session)
    customer = customer_of(session, record)
    customer_name = (
        "" if customer is None else str(getattr(customer, "name", None) or getattr(customer, "full_name", ""))
    )
    lang = _language(language)
    reference = None
    if record.kind is DocumentKind.ORDER and getattr(record, "quote_id", None):
        reference = _number_of(uow, DocumentKind.QUOTE, record.quote_id)  # type: ignore[attr-defined]
    if record.kind is DocumentKind.INVOICE and getattr(record, "order_id", None):
        reference = _number_of(uow, DocumentKind.ORDER, record.order_id)  # type: ignore[attr-defined]
    return PrintedDocument(
        kind=record.kind.value,  # type: ignore[arg-type]
        number=record.number,
        revision=getattr(record, "revision", None),
        name=record.name,
        status=status_text(record, lang),
        issued_on=local_moment(record.created_at, time_zone).date(),
        currency=record.currency_code,
        company_name=settings.company_name or "leadflow",
        company_address=settings.company_address,
        customer_name=customer_name,
        billing_address=record.billing_address,
        shipping_address=record.shipping_address,
        lines=tuple(
            PrintedLine(
                number=line.line_number,
                product=line.product_name,
                unit=line.unit_name,
                quantity=line.quantity.normalize() if line.quantity == line.quantity.to_integral() else line.quantity,
                price_per_unit=line.price_per_unit,
                volume_discount=line.volume_discount,
                manual_discount=line.manual_discount,
                tax=line.tax,
                extended_amount=line.extended_amount,
                description=line.description,
            )
            for line in record.lines  # type: ignore[attr-defined]
        ),
        totals=PrintedTotals(
            detail_amount=record.detail_amount,
            discount_percentage=record.discount_percentage,
            total_discount_amount=record.total_discount_amount,
            pre_freight_amount=record.pre_freight_amount,
            freight_amount=record.freight_amount,
            total_tax=record.total_tax,
            total_amount=record.total_amount,
        ),
        effective_from=getattr(record, "effective_from", None),
        effective_to=getattr(record, "effective_to", None),
        due_date=getattr(record, "due_date", None),
        payment_terms=PAYMENT_TERMS_LABELS[lang][record.payment_terms] if record.payment_terms else None,
        description=record.description,
        reference=reference,
    )


def _number_of(uow: UnitOfWork, kind: DocumentKind, document_id: uuid.UUID) -> str | None:
    source = uow.session.get(MODELS[kind], document_id)
    return None if source is None else source.number


def printed_document(
    kind: DocumentKind, document_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, language: str | None
) -> PrintedDocument:
    """The printed view of a document the actor may read."""
    record = document(kind, document_id, uow=uow, actor=actor)
    return printed_view(record, uow=uow, language=language, time_zone=time_zone_of(actor, session=uow.session))


@dataclass(frozen=True)
class PrintedFile:
    filename: str
    content: bytes


def document_pdf(
    kind: DocumentKind, document_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, language: str | None
) -> PrintedFile:
    """A document the actor may read as a PDF in ``language``, with its file name (QUO-01000-1.pdf)."""
    view = printed_document(kind, document_id, uow=uow, actor=actor, language=language)
    suffix = f"-{view.revision}" if view.revision else ""
    return PrintedFile(filename=f"{view.number}{suffix}.pdf", content=render_pdf(view, language=_language(language)))
