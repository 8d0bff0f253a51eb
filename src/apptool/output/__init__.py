"""Documents and formats: French wording, jinja2 rendering, PDF, Factur-X, JSON, ICS, the
mandatory mentions, and the shipped templates (``templates/``)."""
