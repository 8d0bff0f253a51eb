"""apptool: plan and bill analyse de pratiques professionnelles (APP) sessions."""

__version__ = "0.1.0"
