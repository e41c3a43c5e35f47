"""The Serverless API subset (`serverless.twilio.com/v1`, mounted here under /serverless/v1)."""
