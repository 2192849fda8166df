"""What only the tests and the bench use: moto's transaction patch and the DynamoDB meter."""
