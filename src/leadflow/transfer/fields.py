"""The columns a spreadsheet of each table has, and every name a column goes by.

One table per leadflow table: each field's kind (how its text is read and written), its label (the
web app's, in English and, through the catalogues, in Spanish) and the other names a file may give it:
the column headers of a Dynamics 365 export in English and Spanish, and Dataverse's logical names.
Import maps a header to a field by any of these names; export writes the label in the user's language,
which import maps back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy.orm import Session

from leadflow.core.errors import ValidationFailed
from leadflow.fields.models import CUSTOMISABLE, CustomField
from leadflow.fields.service import fields_of
from leadflow.http.labels import CHOICE_LABELS, COLUMN_LABELS
from leadflow.http.language import LANGUAGES, N_, gettext
from leadflow.leads.models import BudgetStatus, LeadSource, Need, PurchaseProcess, PurchaseTimeframe, Rating
from leadflow.opportunities.models import Rating as OpportunityRating
from leadflow.transfer.models import TransferTable
from leadflow.transfer.values import fold


class Kind(enum.StrEnum):
    """How a column's text is read into a value and written back."""

    TEXT = "text"
    CHOICE = "choice"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE = "date"
    BOOLEAN = "boolean"
    CURRENCY = "currency"  # an ISO code
    OWNER = "owner"  # a user, by e-mail
    ACCOUNT = "account"  # an account, by name
    CONTACT = "contact"  # a contact, by e-mail or full name
    CUSTOMER = "customer"  # an account by name, else a contact by e-mail or full name
    ID = "id"  # the record's own id: matches the record to update, never written
    READ_ONLY = "read_only"  # exported, never imported (state, stamps)
    CUSTOM = "custom"  # a custom field (leadflow.fields): read and written by the field's own kind


@dataclass(frozen=True)
class Column:
    """One column of a table's spreadsheet."""

    name: str  # leadflow's field name, the API's too
    kind: Kind = Kind.TEXT
    label: str = ""  # English message id; translated where it is shown
    aliases: tuple[str, ...] = ()  # other headers that mean it (Dynamics display and logical names)
    choices: type[enum.Enum] | None = None
    # The input field a lookup fills (owner -> owner_user_id); the field's own name when empty.
    target: str = ""
    exported: bool = True
    label_es: str = ""  # a custom field's Spanish label (built-in columns are translated by the catalogues)

    @property
    def field(self) -> str:
        """The input field this column fills."""
        return self.target or self.name

    @property
    def imported(self) -> bool:
        return self.kind is not Kind.READ_ONLY

    def heading(self, language: str) -> str:
        """The column's header in ``language``."""
        if self.label_es and language == "es":
            return self.label_es
        return gettext(language, self.label or COLUMN_LABELS.get(self.name, self.name))

    def choice_labels(self) -> dict[str, list[str]]:
        """Each stored value of a choice column with the labels that mean it, in every language."""
        return _choice_labels(self)


@cache
def _choice_labels(column: Column) -> dict[str, list[str]]:
    """``Column.choice_labels``, worked out once per column: an import asks for every row."""
    assert column.choices is not None
    labels = CHOICE_LABELS.get(column.choices, {})
    dynamics = DYNAMICS_OPTION_VALUES.get(column.choices, {})
    result: dict[str, list[str]] = {}
    for member in column.choices:
        message = labels.get(str(member.value))
        names = [gettext(language, message) for language in LANGUAGES] if message else []
        result[str(member.value)] = [*names, *dynamics.get(member.value, ())]
    return result


def _address(prefix_en: str = "Address 1", prefix_es: str = "Dirección 1") -> list[Column]:
    """The address block every table has, with Dynamics' names for address 1."""
    parts = (
        ("address_line1", ("Street 1", "Calle 1", "address1_line1", f"{prefix_en}: Street 1", f"{prefix_es}: Calle 1")),
        ("address_line2", ("Street 2", "Calle 2", "address1_line2", f"{prefix_en}: Street 2", f"{prefix_es}: Calle 2")),
        ("address_line3", ("Street 3", "Calle 3", "address1_line3", f"{prefix_en}: Street 3", f"{prefix_es}: Calle 3")),
        ("address_city", ("City", "Ciudad", "address1_city", f"{prefix_en}: City", f"{prefix_es}: Ciudad")),
        (
            "address_state_or_province",
            ("State/Province", "Estado o provincia", "Provincia", "address1_stateorprovince"),
        ),
        ("address_postal_code", ("ZIP/Postal Code", "Código postal", "address1_postalcode", "Postal code")),
        ("address_country", ("Country/Region", "País o región", "País", "Country", "address1_country")),
    )
    return [Column(name, aliases=aliases) for name, aliases in parts]


# Dataverse's option values of the choices leadflow shares with Dynamics, so a file that carries
# them (an export of raw values) imports too.
DYNAMICS_OPTION_VALUES: dict[type[enum.Enum], dict[object, tuple[str, ...]]] = {
    LeadSource: {
        LeadSource.ADVERTISEMENT.value: ("1",),
        LeadSource.EMPLOYEE_REFERRAL.value: ("2",),
        LeadSource.EXTERNAL_REFERRAL.value: ("3",),
        LeadSource.PARTNER.value: ("4",),
        LeadSource.PUBLIC_RELATIONS.value: ("5",),
        LeadSource.SEMINAR.value: ("6",),
        LeadSource.TRADE_SHOW.value: ("7", "Feria comercial"),
        LeadSource.WEB.value: ("8",),
        LeadSource.WORD_OF_MOUTH.value: ("9", "Boca a boca"),
        LeadSource.OTHER.value: ("10",),
    },
    Rating: {Rating.HOT.value: ("1",), Rating.WARM.value: ("2",), Rating.COLD.value: ("3",)},
    OpportunityRating: {
        OpportunityRating.HOT.value: ("1",),
        OpportunityRating.WARM.value: ("2",),
        OpportunityRating.COLD.value: ("3",),
    },
}

ID = Column("id", Kind.ID, label=N_("Id"), aliases=("leadid", "accountid", "contactid", "opportunityid", "Id", "ID"))
OWNER = Column(
    "owner",
    Kind.OWNER,
    label=N_("Owner"),
    aliases=("Owner", "Propietario", "ownerid", "owner_email"),
    target="owner_user_id",
)
STATE = Column("state", Kind.READ_ONLY, aliases=("Status", "Estado", "statecode"))
STATUS_REASON = Column("status_reason", Kind.READ_ONLY, aliases=("Status Reason", "Razón para el estado", "statuscode"))
CREATED = Column("created_at", Kind.READ_ONLY, label=N_("Created on"), aliases=("Created On", "Fecha de creación"))
MODIFIED = Column(
    "modified_at", Kind.READ_ONLY, label=N_("Modified on"), aliases=("Modified On", "Fecha de modificación")
)

# Columns several tables share, with the same names.
FIRST_NAME = Column("first_name", aliases=("First Name", "Nombre", "firstname"))
LAST_NAME = Column("last_name", aliases=("Last Name", "Apellidos", "Apellido", "lastname"))
JOB_TITLE = Column("job_title", aliases=("Job Title", "Puesto", "Cargo", "jobtitle"))
BUSINESS_PHONE = Column("business_phone", aliases=("Business Phone", "Teléfono del trabajo", "Teléfono", "telephone1"))
MOBILE_PHONE = Column("mobile_phone", aliases=("Mobile Phone", "Teléfono móvil", "Móvil", "mobilephone"))
EMAIL = Column("email", aliases=("Email", "E-mail", "Correo electrónico", "Correo", "emailaddress1"))
WEBSITE = Column("website", aliases=("Website", "Sitio web", "websiteurl"))
DESCRIPTION = Column("description", aliases=("Description", "Descripción"))
CURRENCY = Column(
    "currency",
    Kind.CURRENCY,
    label=N_("Currency"),
    aliases=("Currency", "Divisa", "Moneda", "transactioncurrencyid"),
)
PURCHASE_TIMEFRAME = Column(
    "purchase_timeframe",
    Kind.CHOICE,
    choices=PurchaseTimeframe,
    aliases=("Purchase Timeframe", "Plazo de compra", "purchasetimeframe"),
)
PURCHASE_PROCESS = Column(
    "purchase_process",
    Kind.CHOICE,
    choices=PurchaseProcess,
    aliases=("Purchase Process", "Proceso de compra", "purchaseprocess"),
)
DECISION_MAKER = Column(
    "decision_maker",
    Kind.BOOLEAN,
    aliases=("Decision Maker?", "¿Responsable de la toma de decisiones?", "decisionmaker"),
)
NEED = Column("need", Kind.CHOICE, choices=Need, aliases=("Need", "Necesidad", "need"))

COLUMNS: dict[TransferTable, tuple[Column, ...]] = {
    TransferTable.LEADS: (
        ID,
        Column("topic", aliases=("Topic", "Tema", "subject", "Asunto")),
        FIRST_NAME,
        LAST_NAME,
        JOB_TITLE,
        Column(
            "company_name",
            aliases=(
                "Company Name",
                "Company",
                "Nombre de la compañía",
                "Nombre de la empresa",
                "Empresa",
                "companyname",
            ),
        ),
        BUSINESS_PHONE,
        MOBILE_PHONE,
        EMAIL,
        WEBSITE,
        DESCRIPTION,
        Column(
            "lead_source",
            Kind.CHOICE,
            choices=LeadSource,
            aliases=("Lead Source", "Origen del cliente potencial", "leadsourcecode"),
        ),
        Column("rating", Kind.CHOICE, choices=Rating, aliases=("Rating", "Clasificación", "leadqualitycode")),
        CURRENCY,
        OWNER,
        PURCHASE_TIMEFRAME,
        Column(
            "budget_amount",
            Kind.DECIMAL,
            aliases=("Budget Amount", "Importe del presupuesto", "Presupuesto estimado", "budgetamount"),
        ),
        Column("budget_status", Kind.CHOICE, choices=BudgetStatus, aliases=("Budget", "Presupuesto", "budgetstatus")),
        PURCHASE_PROCESS,
        DECISION_MAKER,
        NEED,
        Column(
            "qualification_comments",
            aliases=("Qualification Comments", "Comentarios de la calificación", "qualificationcomments"),
        ),
        *_address(),
        Column(
            "parent_account",
            Kind.ACCOUNT,
            label=N_("Existing account"),
            target="parent_account_id",
            aliases=("Existing Account", "Cuenta existente", "parentaccountid", "parent_account_id"),
        ),
        Column(
            "parent_contact",
            Kind.CONTACT,
            label=N_("Existing contact"),
            target="parent_contact_id",
            aliases=("Existing Contact", "Contacto existente", "parentcontactid", "parent_contact_id"),
        ),
        Column(
            "qualify",
            Kind.BOOLEAN,
            label=N_("Qualify"),
            aliases=("Calificar", "Qualify?", "¿Calificar?"),
            exported=False,
        ),
        STATE,
        STATUS_REASON,
        CREATED,
        MODIFIED,
    ),
    TransferTable.ACCOUNTS: (
        ID,
        Column(
            "name",
            label=N_("Account name"),
            aliases=("Account Name", "Nombre de cuenta", "Nombre de la cuenta", "Nombre", "Name"),
        ),
        Column("telephone", aliases=("Main Phone", "Teléfono principal", "Teléfono", "telephone1")),
        EMAIL,
        WEBSITE,
        DESCRIPTION,
        OWNER,
        Column(
            "primary_contact",
            Kind.CONTACT,
            label=N_("Primary contact"),
            target="primary_contact_id",
            aliases=("Primary Contact", "Contacto principal", "primarycontactid", "primary_contact_id"),
        ),
        *_address(),
        STATE,
        CREATED,
        MODIFIED,
    ),
    TransferTable.CONTACTS: (
        ID,
        FIRST_NAME,
        LAST_NAME,
        JOB_TITLE,
        EMAIL,
        BUSINESS_PHONE,
        MOBILE_PHONE,
        WEBSITE,
        DESCRIPTION,
        Column(
            "account",
            Kind.ACCOUNT,
            label=N_("Account"),
            target="account_id",
            aliases=(
                "Account Name",
                "Company Name",
                "Nombre de cuenta",
                "Nombre de la compañía",
                "Empresa",
                "parentcustomerid",
                "account_id",
            ),
        ),
        OWNER,
        *_address(),
        STATE,
        CREATED,
        MODIFIED,
    ),
    TransferTable.OPPORTUNITIES: (
        ID,
        Column("name", label=N_("Topic"), aliases=("Topic", "Tema", "Name", "Nombre")),
        Column(
            "customer",
            Kind.CUSTOMER,
            label=N_("Potential customer"),
            target="customer_id",
            aliases=("Potential Customer", "Posible cliente", "Cliente potencial", "customerid", "customer_id"),
        ),
        Column(
            "estimated_revenue",
            Kind.DECIMAL,
            label=N_("Est. revenue"),
            aliases=("Est. Revenue", "Estimated Revenue", "Ingresos estimados", "Ingresos est.", "estimatedvalue"),
        ),
        Column(
            "estimated_close_date",
            Kind.DATE,
            aliases=(
                "Est. Close Date",
                "Estimated Close Date",
                "Fecha de cierre estimada",
                "Fecha de cierre est.",
                "estimatedclosedate",
            ),
        ),
        CURRENCY,
        OWNER,
        Column("probability", Kind.INTEGER, aliases=("Probability", "Probabilidad", "closeprobability")),
        Column(
            "rating",
            Kind.CHOICE,
            choices=OpportunityRating,
            aliases=("Rating", "Clasificación", "opportunityratingcode"),
        ),
        PURCHASE_TIMEFRAME,
        PURCHASE_PROCESS,
        DECISION_MAKER,
        NEED,
        DESCRIPTION,
        Column("customer_need", aliases=("Customer Need", "Necesidad del cliente", "customerneed")),
        Column("proposed_solution", aliases=("Proposed Solution", "Solución propuesta", "proposedsolution")),
        STATE,
        STATUS_REASON,
        CREATED,
        MODIFIED,
    ),
}


# Each table's custom fields as columns (after its own), as ``load_custom_columns`` last read them.
_CUSTOM: dict[TransferTable, tuple[Column, ...]] = {}
_CUSTOM_FIELDS: dict[tuple[TransferTable, str], CustomField] = {}


def load_custom_columns(session: Session) -> None:
    """Read the custom fields every import and export includes (visible ones; hidden fields stay out)."""
    for table in TransferTable:
        if table.value not in CUSTOMISABLE:
            continue
        shown = [custom for custom in fields_of(session, table.value) if not custom.hidden]
        _CUSTOM[table] = tuple(
            Column(
                f"custom.{custom.name}",
                Kind.CUSTOM,
                label=custom.label_en,
                label_es=custom.label_es,
                aliases=(custom.name, custom.name.replace("_", " ")),
            )
            for custom in shown
        )
        for custom in shown:
            _CUSTOM_FIELDS[(table, custom.name)] = custom


def custom_field_of(table: TransferTable | str, column: Column) -> CustomField:
    """The custom field a ``Kind.CUSTOM`` column stands for."""
    return _CUSTOM_FIELDS[(TransferTable(table), column.name.removeprefix("custom."))]


def columns_of(table: TransferTable | str) -> tuple[Column, ...]:
    """The spreadsheet columns of a table: its own, then its custom fields."""
    table = TransferTable(table)
    return COLUMNS[table] + _CUSTOM.get(table, ())


def column(table: TransferTable | str, name: str) -> Column:
    """One column of a table by its field name; an unknown name is refused naming the known ones."""
    for candidate in columns_of(table):
        if candidate.name == name:
            return candidate
    known = ", ".join(candidate.name for candidate in columns_of(table) if candidate.imported)
    raise ValidationFailed(
        f"{name!r} is not a column of {TransferTable(table).value}; map it to one of: {known}, or leave it out.",
        code="column_not_importable",
        details={"column": name, "known": known},
    )


@dataclass
class _HeaderIndex:
    by_key: dict[str, str] = field(default_factory=dict)

    def names(self, column: Column) -> Iterator[str]:
        yield column.name
        yield column.name.replace("_", " ")
        yield column.field
        for language in LANGUAGES:
            yield column.heading(language)
        yield from column.aliases


_INDEXES: dict[TransferTable, dict[str, str]] = {}


def header_index(table: TransferTable | str) -> dict[str, str]:
    """Every name of every column of ``table``, folded, to the column's name; the first column to
    claim a name keeps it (a table's own fields come before the names they share with others)."""
    table = TransferTable(table)
    if table not in _INDEXES:
        index = _HeaderIndex()
        for candidate in COLUMNS[table]:
            for name in index.names(candidate):
                index.by_key.setdefault(fold(name), candidate.name)
        _INDEXES[table] = index.by_key
    custom = _CUSTOM.get(table, ())
    if not custom:
        return _INDEXES[table]
    names = _HeaderIndex()
    merged = dict(_INDEXES[table])
    for candidate in custom:
        for name in names.names(candidate):
            merged.setdefault(fold(name), candidate.name)
    return merged


def automatic_mapping(table: TransferTable | str, headers: list[str]) -> dict[str, str | None]:
    """Each header of a file and the column it means, or None when no column goes by that name.

    A column claimed by an earlier header is not given to a later one, which stays unmapped; so do
    the columns an export writes and an import never fills (status, created on).
    """
    index = header_index(table)
    taken: set[str] = set()
    mapping: dict[str, str | None] = {}
    importable = {candidate.name for candidate in columns_of(table) if candidate.imported}
    for header in headers:
        name = index.get(fold(header))
        if name is not None and (name in taken or name not in importable):
            name = None
        if name is not None:
            taken.add(name)
        mapping[header] = name
    return mapping
