"""What the HTTP entry points (the REST API and the web app) share: the status of each domain error,
the body size limit, reading uploads and handing out downloads."""
