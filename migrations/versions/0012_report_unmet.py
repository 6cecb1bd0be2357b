"""Unmet need with structure (issue 14): `report_unmet`, one row per unmet need of each
`plan.submitted` ledger row, its outcome, the provision wanted (a rate-card code or `other`),
units a week (hundredths) and words, taken out of the payload once by a trigger as the row is
appended (as `report_step`, migration 0009). Plain notes written before needs were structured are
copied with their words only (no outcome, provision or units). The rows already in the ledger
are copied in by the same SELECT the trigger runs.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "chain, seq, n, case_id, at, outcome, provision, units, words"


def _select(row: str, postgres: bool) -> str:
    """The SELECT of a ledger row's unmet needs; `row` is the ledger row (`NEW` or a table alias)."""
    if postgres:
        need = "e.v"
        fields = (f"CASE WHEN jsonb_typeof({need}) = 'object' THEN {need} ->> 'outcome' END, "
                  f"CASE WHEN jsonb_typeof({need}) = 'object' THEN {need} ->> 'provision' END, "
                  f"CASE WHEN jsonb_typeof({need}) = 'object' THEN "
                  f"CAST(ROUND(CAST({need} ->> 'units' AS NUMERIC) * 100) AS BIGINT) END, "
                  f"substr(CASE WHEN jsonb_typeof({need}) = 'string' THEN {need} #>> '{{}}' "
                  f"ELSE {need} ->> 'words' END, 1, 500)")
        needs = f"(({row}.payload)::jsonb -> 'unmet_needs')"
        source = (f"jsonb_array_elements(CASE WHEN jsonb_typeof({needs}) = 'array' THEN {needs} "
                  "ELSE '[]'::jsonb END) WITH ORDINALITY AS e(v, n)")
        return (f"SELECT {row}.chain, {row}.seq, CAST(e.n - 1 AS INTEGER), {row}.case_id, {row}.at, "
                f"{fields} FROM {source}")
    fields = ("CASE WHEN e.type = 'object' THEN json_extract(e.value, '$.outcome') END, "
              "CASE WHEN e.type = 'object' THEN json_extract(e.value, '$.provision') END, "
              "CASE WHEN e.type = 'object' THEN "
              "CAST(ROUND(CAST(json_extract(e.value, '$.units') AS REAL) * 100) AS INTEGER) END, "
              "substr(CASE WHEN e.type = 'text' THEN e.value ELSE json_extract(e.value, '$.words') END, 1, 500)")
    return (f"SELECT {row}.chain, {row}.seq, CAST(e.key AS INTEGER), {row}.case_id, {row}.at, {fields} "
            f"FROM json_each({row}.payload, '$.unmet_needs') AS e")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"""CREATE TABLE report_unmet (
        chain VARCHAR(60) NOT NULL, seq BIGINT NOT NULL, n INTEGER NOT NULL, case_id VARCHAR(100) NOT NULL,
        at VARCHAR(32) NOT NULL, outcome VARCHAR(60), provision VARCHAR(64), units BIGINT, words VARCHAR(500),
        PRIMARY KEY (chain, seq, n)){'' if postgres else ' WITHOUT ROWID'}""")
    if postgres:
        op.execute(f"""
            CREATE FUNCTION report_unmet_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.case_id IS NOT NULL AND NEW.action = 'plan.submitted' THEN
                INSERT INTO report_unmet ({COLUMNS}) {_select('NEW', True)};
              END IF;
              RETURN NULL;
            END $$""")
        op.execute("""CREATE TRIGGER report_unmet_add AFTER INSERT ON ledger
                      FOR EACH ROW EXECUTE FUNCTION report_unmet_add()""")
    else:
        op.execute(f"""CREATE TRIGGER report_unmet_add AFTER INSERT ON ledger
                       WHEN NEW.case_id IS NOT NULL AND NEW.action = 'plan.submitted'
                       BEGIN INSERT INTO report_unmet ({COLUMNS}) {_select('NEW', False)}; END""")
    op.execute(f"INSERT INTO report_unmet ({COLUMNS}) {_backfill(postgres)}")


def _backfill(postgres: bool) -> str:
    select = _select("l", postgres)
    head, source = select.split(" FROM ", 1)
    return (f"{head} FROM ledger l CROSS JOIN {source} "
            "WHERE l.case_id IS NOT NULL AND l.action = 'plan.submitted'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_unmet_add ON ledger")
        op.execute("DROP FUNCTION report_unmet_add()")
    else:
        op.execute("DROP TRIGGER report_unmet_add")
    op.execute("DROP TABLE report_unmet")
