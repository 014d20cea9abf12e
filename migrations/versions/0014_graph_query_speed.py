"""Graph query speed (issue 5): the neighbourhood walk as a function; ranked full text.

**lifeos_neighborhood** runs ``neighbors``' whole walk (every hop, every
visibility check) in one statement; ``lifeos_gql.domains.graph.traversal``
explains the rule and ``tests/integration/test_graph_traversal_equivalence.py``
checks it against the sequential reference. It is PL/pgSQL only so that its
plan is cached per connection, whatever the client does with prepared
statements: when this was written the request path ended every read
transaction with a rollback, which makes psycopg drop its prepared
statements, so the same text sent as a query was planned afresh on every
request (with the row-level security policies of every table it reads,
about half of its time). Request reads now end with a commit
(``lifeos_gql.db.uow``), which keeps statements prepared too. It is ``SECURITY INVOKER``: the caller's policies apply. The hop
levels are written out three times (``MAX_DEPTH``) and switched off past
``p_depth``; directions are one-time filters; current and ``asOf`` reads are
two statements (the current one uses the partial weight indexes).

**lifeos_captures_ranked** (full-text search):

``lifeos_captures_matching`` (revision 0012) returns every capture matching
a query; the caller joins each back to ``captures`` under row-level security
to rank it and keep the best 100. A common word matches thousands of
captures (4,400 of 100,000 for "compost seedlings"): 4,400 primary-key
probes, each with the policy's filter, were 20-50 ms of a search.

``lifeos_captures_ranked`` makes the same index lookup with the same policy
rule (it must stay equal to ``captures_select``), applies the caller's own
stream and time filter, ranks with ``ts_rank_cd`` and returns only the best
``lim`` ids with their rank: one pass over the matches' rows, and the caller
joins back (under RLS, the second wall) 100 rows at most. The filter
arguments are the caller's visibility rule, so the top ``lim`` here are the
top ``lim`` the caller would have kept.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APP_ROLE = "lifeos_app"
SIGNATURE = (
    "lifeos_captures_ranked(q tsquery, streams uuid[], since timestamptz,"
    " until timestamptz, lim integer)"
)
# ``$n``, not parameter names: ``captures`` has columns that would win.
BODY = """
    SELECT c.id, ts_rank_cd(c.search, $1, 32) AS rank FROM captures c
    WHERE c.search @@ $1
      AND (c.owner_id = (SELECT lifeos_actor())
           OR c.stream_id = ANY((SELECT lifeos_visible_streams())::uuid[]))
      AND c.stream_id = ANY($2)
      AND ($3 IS NULL OR c.occurred_at >= $3)
      AND ($4 IS NULL OR c.occurred_at < $4)
    ORDER BY rank DESC, c.id
    LIMIT $5
"""


# ---- lifeos_neighborhood ------------------------------------------------------

MAX_DEPTH = 3
NEIGHBORHOOD = (
    "lifeos_neighborhood(p_start_type text, p_start_id uuid, p_streams uuid[],"
    " p_depth integer, p_out boolean, p_in boolean, p_rels text[], p_as_of timestamptz,"
    " p_first integer, p_min_per_node integer)"
)
_EDGE_COLUMNS = (
    "id uuid, owner_id uuid, from_type text, from_id uuid, to_type text, to_id uuid,"
    " relation text, weight real, evidence text, producer text, valid_from timestamptz,"
    " valid_to timestamptz, recorded_at timestamptz, superseded_at timestamptz"
)
_EDGE_NAMES = [c.split()[0] for c in _EDGE_COLUMNS.split(",")]
_RETURNS = f"kind text, hop integer, pos bigint, node_type text, node_id uuid, {_EDGE_COLUMNS}"
_CURRENT = "e.superseded_at IS NULL"
_AS_OF = "e.recorded_at <= p_as_of AND (e.superseded_at IS NULL OR e.superseded_at > p_as_of)"
_RELATIONS = "(p_rels IS NULL OR e.relation = ANY(p_rels))"
# ``evidence`` as text: the caller parses it (orjson beats the driver's json).
_HOP_COLUMNS = ", ".join(
    "CAST(e.evidence AS text) AS evidence" if c == "evidence" else f"e.{c}" for c in _EDGE_NAMES
)


def _visible(node_type: str, node_id: str) -> str:
    """The graph's visibility rule for one node, through the readable streams ``p_streams``.

    A capture by its stream; a concept through a current mention by a
    readable capture; an insight when it has lineage and no lineage capture
    is missing from the readable streams (written with NOT EXISTS: under RLS
    a capture the reader cannot see is absent, so a join would pass it).
    """
    return f"""(
        ({node_type} = 'capture' AND EXISTS (
            SELECT 1 FROM captures c
            WHERE c.id = {node_id} AND c.stream_id = ANY(p_streams)))
        OR ({node_type} = 'concept' AND EXISTS (
            SELECT 1 FROM edges m JOIN captures c ON c.id = m.from_id
            WHERE m.to_id = {node_id} AND m.relation = 'MENTIONS'
              AND m.superseded_at IS NULL AND c.stream_id = ANY(p_streams)))
        OR ({node_type} = 'insight'
            AND EXISTS (SELECT 1 FROM insight_sources s WHERE s.insight_id = {node_id})
            AND NOT EXISTS (
                SELECT 1 FROM insight_sources s
                WHERE s.insight_id = {node_id} AND NOT EXISTS (
                    SELECT 1 FROM captures c
                    WHERE c.id = s.capture_id AND c.stream_id = ANY(p_streams)))))"""


def _side(k: int, near: str, far: str, flag: str, time: str) -> str:
    """Hop ``k``'s strongest edges of one frontier node ``f`` on one side."""
    return f"""(
        SELECT {_HOP_COLUMNS}, e.{far}_type AS o_type, e.{far}_id AS o_id FROM edges e
        WHERE {flag} AND e.{near}_id = f.id AND {time} AND {_RELATIONS}
        ORDER BY e.weight DESC, e.id LIMIT (SELECT per_node FROM p{k}))"""


def neighborhood_sql(time: str) -> str:
    """The walk, hop by hop (see ``lifeos_gql.domains.graph.traversal``).

    Per hop k, from s{k-1} (nodes seen, with the hop and position that added
    them): p{k} the sizes (budget, frontier width, per-node and total
    limits); c{k} the candidate edges numbered strongest first with their
    far end; a{k} the first ``budget`` new, visible far ends by first
    appearance (``OFFSET 0`` keeps the visibility filter above the sort, so
    probing stops once the budget is filled); e{k} the candidates whose far
    end is in s{k}.
    """
    ctes = [
        f"""s0 AS MATERIALIZED (
            SELECT p_start_type AS type, p_start_id AS id, 0 AS hop, CAST(0 AS bigint) AS pos
            WHERE {_visible("p_start_type", "p_start_id")})"""
    ]
    for k in range(1, MAX_DEPTH + 1):
        sides = " UNION ALL ".join(
            [_side(k, "from", "to", "p_out", time), _side(k, "to", "from", "p_in", time)]
        )
        ctes += [
            f"""p{k} AS MATERIALIZED (
                SELECT b.budget, b.width,
                       greatest(p_min_per_node,
                                ceil(2.0 * b.budget / nullif(b.width, 0)))::int AS per_node,
                       4 * b.budget + b.width AS lim
                FROM (SELECT CASE WHEN p_depth >= {k} THEN p_first - count(*) ELSE 0 END
                                 AS budget,
                             count(*) FILTER (WHERE hop = {k - 1}) AS width
                      FROM s{k - 1}) b)""",
            f"""c{k} AS MATERIALIZED (
                SELECT x.*, row_number() OVER (ORDER BY x.weight DESC, x.id) AS pos
                FROM (
                    SELECT x.* FROM s{k - 1} f CROSS JOIN LATERAL ({sides}) AS x
                    WHERE f.hop = {k - 1} AND (SELECT budget FROM p{k}) > 0
                    ORDER BY x.weight DESC, x.id LIMIT (SELECT lim FROM p{k})
                ) x)""",
            f"""a{k} AS MATERIALIZED (
                SELECT o.o_type AS type, o.o_id AS id, {k} AS hop, o.pos
                FROM (
                    SELECT o_type, o_id, min(pos) AS pos FROM c{k}
                    WHERE o_id NOT IN (SELECT id FROM s{k - 1})
                    GROUP BY o_type, o_id ORDER BY min(pos) OFFSET 0
                ) o
                WHERE {_visible("o.o_type", "o.o_id")}
                ORDER BY o.pos LIMIT greatest((SELECT budget FROM p{k}), 0))""",
            f"""s{k} AS MATERIALIZED (SELECT * FROM s{k - 1} UNION ALL SELECT * FROM a{k})""",
            f"""e{k} AS (
                SELECT {k} AS hop, c.* FROM c{k} c WHERE c.o_id IN (SELECT id FROM s{k}))""",
        ]
    hops = " UNION ALL ".join(f"SELECT * FROM e{k}" for k in range(1, MAX_DEPTH + 1))
    nulls = ", ".join(f"NULL::{c.split()[1]}" for c in _EDGE_COLUMNS.split(","))
    return f"""
        WITH {", ".join(ctes)},
        kept AS (SELECT DISTINCT ON (id) * FROM ({hops}) h ORDER BY id, hop, pos)
        SELECT 'node', s.hop, s.pos, s.type, s.id, {nulls}
        FROM s{MAX_DEPTH} s
        UNION ALL
        SELECT 'edge', k.hop, k.pos, NULL, NULL, {", ".join("k." + c for c in _EDGE_NAMES)}
        FROM kept k
        ORDER BY 2, 3"""


def neighborhood_function() -> str:
    return f"""
        CREATE FUNCTION {NEIGHBORHOOD} RETURNS TABLE ({_RETURNS})
        LANGUAGE plpgsql STABLE
        -- The plan's shape does not depend on the arguments (index probes
        -- bounded by LIMITs at every hop): use the cached generic plan from
        -- the first call instead of planning five custom ones per connection.
        SET plan_cache_mode = force_generic_plan
        AS $$
        #variable_conflict use_column
        BEGIN
            IF p_depth NOT BETWEEN 1 AND {MAX_DEPTH} THEN
                RAISE EXCEPTION 'lifeos_neighborhood: depth % is not between 1 and {MAX_DEPTH}',
                    p_depth USING ERRCODE = '22023';
            END IF;
            IF p_as_of IS NULL THEN
                RETURN QUERY {neighborhood_sql(_CURRENT)};
            ELSE
                RETURN QUERY {neighborhood_sql(_AS_OF)};
            END IF;
        END $$;
        REVOKE ALL ON FUNCTION {NEIGHBORHOOD} FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION {NEIGHBORHOOD} TO {APP_ROLE};
    """


def _execute_raw(sql: str) -> None:
    """Run ``sql`` on the migration's psycopg connection (``$n`` and ``%`` as is)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # a live psycopg connection while migrating
    driver.execute(sql)


def upgrade() -> None:
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    _execute_raw(
        f"CREATE FUNCTION {SIGNATURE} RETURNS TABLE (id uuid, rank real)"
        f" LANGUAGE sql STABLE ROWS 100 SECURITY DEFINER"
        f" SET search_path = {schema}, pg_temp AS $$ {BODY} $$;"
        f" REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC;"
        f" GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE};"
    )
    _execute_raw(neighborhood_function())


def downgrade() -> None:
    _execute_raw(f"DROP FUNCTION IF EXISTS {NEIGHBORHOOD}; DROP FUNCTION IF EXISTS {SIGNATURE};")
