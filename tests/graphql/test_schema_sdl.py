from pathlib import Path

from app.graphql.schema import schema


def test_schema_graphql_is_current() -> None:
    committed = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert committed == str(schema) + "\n", "schema.graphql is stale: run `rouptimize export-schema`"
