"""Queries of the Serverless API's resources, one module per resource."""
