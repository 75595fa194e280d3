const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, UpdateCommand, QueryCommand } = require('@aws-sdk/lib-dynamodb');

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TABLE = process.env.TENANTS_TABLE;

exports.setTenantTier = (tenantId, tier, customerId) =>
  doc.send(
    new UpdateCommand({
      TableName: TABLE,
      Key: { tenantId },
      UpdateExpression: 'SET tier = :tier, stripeCustomerId = :cus, updatedAt = :now',
      ExpressionAttributeValues: { ':tier': tier, ':cus': customerId, ':now': Date.now() },
    })
  );

exports.tenantByCustomer = async (customerId) => {
  const out = await doc.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'stripeCustomerId = :cus',
      ExpressionAttributeValues: { ':cus': customerId },
    })
  );
  return out.Items && out.Items[0];
};
