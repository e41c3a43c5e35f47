"""The Serverless API's operations, one module per resource: validate, one transaction, audit."""
