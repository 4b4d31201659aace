throw new Error('@aws-amplify/amplify-cli-core is stubbed in keysmith; load only the DynamoDB Local jar from amplify-dynamodb-simulator');
