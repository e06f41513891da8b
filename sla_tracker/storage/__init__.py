"""The store: tables, engines, migrations, locks, bulk reads and the queries. Nothing
outside this package builds SQL."""
