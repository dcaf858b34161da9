"""What the database plans for a query: whether an index hands the rows over in order."""

from django.db import connection


def main_plan(sql: str, params=()) -> tuple[str, str]:
    """(the plan of the query itself without its correlated subqueries, the whole plan)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
            return plan.split("CORRELATED SCALAR SUBQUERY")[0], plan
        # Tiny test tables make a sort look free: take the sort-free plan whenever one exists.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = " / ".join(row[0] for row in cursor.fetchall())
        return plan.split("SubPlan")[0], plan


def assert_read_in_index_order(index_name: str, sql: str, params=()) -> None:
    """The rows come from index_name in the order asked for: no sort of the whole table."""
    main, plan = main_plan(sql, params)
    assert index_name in main, plan
    assert "TEMP B-TREE" not in main and "Sort Key" not in main, plan
