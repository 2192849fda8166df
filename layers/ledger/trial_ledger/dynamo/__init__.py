"""The DynamoDB layer: the only importer of pynamodb and botocore (items, keys, expressions, the store)."""
