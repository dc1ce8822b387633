"""Analyst entry points to the published datamart: `c360 sql`, the query library, the guide."""
