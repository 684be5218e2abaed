"""The Dataverse-compatible Web API (/api/data/v9.2): Dynamics 365 clients work against leadflow
unchanged. It translates OData requests onto the same service calls as the REST API, the web app
and the CLI, so every access rule and business rule holds here too."""

from leadflow.dataverse.routes import install_dataverse

__all__ = ["install_dataverse"]
