"""The local stack of `make run`: the API Gateway emulator, local Lambda containers, the embedded
DynamoDB, its stream and bus."""
