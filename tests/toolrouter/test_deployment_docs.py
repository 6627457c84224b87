"""docs/deployment.md's Python snippet and monitoring queries run against a PostgreSQL store."""

import re
from pathlib import Path

DOC = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
QUERIES = re.findall(r"`(SELECT [^`]+)`", DOC)


def test_the_snippet_and_the_monitoring_queries_run(pg_url: str) -> None:
    import psycopg

    assert len(SNIPPETS) == 1 and len(QUERIES) >= 5
    shown = re.search(r'"(postgresql://[^"]+)"', SNIPPETS[0]).group(1)
    database = pg_url.split("?")[0].rsplit("/", 1)[1]
    namespace: dict = {}
    exec(compile(SNIPPETS[0].replace(shown, pg_url), "deployment.md[python]", "exec"), namespace)
    with namespace["tools"] as tools:

        @tools.tool("search")
        def search(query: str) -> str:
            return f"results for {query}"

        assert tools.call("search", "invoices") == "results for invoices"
        with psycopg.connect(pg_url.split("?")[0], autocommit=True) as conn:
            for query in QUERIES:  # written for the database named routing
                rows = conn.execute(query.replace("'routing'", f"'{database}'")).fetchall()
                if "pg_stat_activity WHERE datname" in query:
                    assert rows[0][0] >= 2  # this connection and the router's
            assert conn.execute("SELECT count(*) FROM toolrouter.attempts").fetchone()[0] == 1
            # the diagram names every table of the store's schema
            (listed,) = re.findall(r"schema toolrouter: ([a-z_, ]+)", DOC)
            tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'toolrouter'").fetchall()
            assert sorted(listed.split(", ")) == sorted(name for (name,) in tables)
