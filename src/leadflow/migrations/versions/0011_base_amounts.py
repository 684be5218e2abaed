"""base amounts of the records saved before currencies had exchange rates"""

# Alembic revision 0011 (after 0010): a data step. Revision 0009 gave leads and opportunities an
# exchange rate and a base-currency twin of each amount, filled by the application from then on;
# the records saved before were left without them, so the dashboard, the board and the forecast,
# which sum base amounts, left them out. This step gives each such record its currency's rate
# (the rate of the base currency, 1, when it names none) and its amounts in base currency, as
# leadflow.organisation.currencies.in_base computes them: the amount divided by the rate, to four
# places. The columns hold scaled integers (amounts 10**-4, rates 10**-10), read and written as such.
# Downgrading leaves the figures in place: revision 0010's schema has the same columns.
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MONEY = Decimal(10) ** 4
RATE = Decimal(10) ** 10
BATCH = 1000
AMOUNTS = {"opportunities": ("estimated_revenue", "actual_revenue"), "leads": ("budget_amount",)}


def _in_base(amount: int | None, rate: int) -> int | None:
    if amount is None:
        return None
    return int(((Decimal(amount) / MONEY) / (Decimal(rate) / RATE)).quantize(Decimal("0.0001")) * MONEY)


def upgrade() -> None:
    connection = op.get_bind()
    currencies = sa.table("currencies", sa.column("id", sa.Uuid()), sa.column("exchange_rate", sa.BigInteger()))
    rates = dict(connection.execute(sa.select(currencies.c.id, currencies.c.exchange_rate)).all())
    for name, amounts in AMOUNTS.items():
        columns = [f"{amount}_base" for amount in amounts]
        table = sa.table(
            name,
            sa.column("id", sa.Uuid()),
            sa.column("currency_id", sa.Uuid()),
            sa.column("exchange_rate", sa.BigInteger()),
            *(sa.column(column, sa.BigInteger()) for column in (*amounts, *columns)),
        )
        change = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("record_id"))
            .values(
                exchange_rate=sa.bindparam("rate"),
                **{column: sa.bindparam(f"new_{column}") for column in columns},
            )
        )
        pending = sa.select(table.c.id, table.c.currency_id, *(table.c[amount] for amount in amounts)).where(
            table.c.exchange_rate.is_(None)
        )
        last = None
        while True:
            query = pending.order_by(table.c.id).limit(BATCH)
            if last is not None:
                query = query.where(table.c.id > last)
            rows = connection.execute(query).all()
            if not rows:
                break
            updates = []
            for record_id, currency_id, *values in rows:
                rate = rates.get(currency_id, int(RATE))
                updates.append(
                    {
                        "record_id": record_id,
                        "rate": rate,
                        **{
                            f"new_{column}": _in_base(value, rate)
                            for column, value in zip(columns, values, strict=True)
                        },
                    }
                )
            connection.execute(change, updates)
            last = rows[-1][0]


def downgrade() -> None:
    """Nothing to undo in the schema; the figures stay (see above)."""
