metadata name = 'scanhook Cosmos DB'
metadata description = 'A Cosmos DB for NoSQL account with key auth off, the scanhook database and its containers, and a data-plane role for the app identity.'

@description('Required. Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(44)
param name string

@description('Optional. Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for the account. Defaults to none.')
param tags object = {}

@description('Optional. Name of the database. Defaults to `scanhook` (COSMOS_DATABASE).')
param databaseName string = 'scanhook'

@description('Optional. RU/s shared by the database\'s containers. 0 makes a serverless account (pay per request); 400 or more makes a provisioned one. An existing account cannot be switched between the two by redeploying. Defaults to 0.')
@minValue(0)
param provisionedThroughput int = 0

@description('Required. Principal ID of the identity the app runs as; it gets Cosmos DB Built-in Data Contributor on the database.')
param appPrincipalId string

var serverless = provisionedThroughput == 0

// Data-plane (not Azure RBAC) role: read and write items, read container metadata. It cannot create
// databases or containers, which is why they are declared here and COSMOS_CREATE_IF_MISSING is false.
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor

// Every container is partitioned on /id (DESIGN principle 1: the digest is the id and the key).
var partitionKeyPath = '/id'

// `images`: only what the image queries filter or sort on is indexed (shared/store/image-queries.ts,
// the same fields SQLite indexes); the heavy rest of a record — result (SBOM reference, findings;
// only its DB version is indexed), locations, the verdict's per-location list — is written without
// index cost. `id` and `_ts` are always indexed in consistent mode, so ORDER BY c.id needs no entry.
var imagesIndexingPolicy = {
  indexingMode: 'consistent'
  automatic: true
  includedPaths: [
    { path: '/locationKeys/[]/?' }
    { path: '/scan/state/?' }
    { path: '/verdict/overall/?' }
    { path: '/result/dbVersion/?' }
    { path: '/deleted/?' }
    { path: '/lastPulledAt/?' }
    { path: '/lastPushedAt/?' }
    { path: '/lastScannedAt/?' }
    { path: '/firstSeenAt/?' }
  ]
  excludedPaths: [
    { path: '/*' }
    { path: '/"_etag"/?' }
  ]
}

// `changes` and `state` keep Cosmos DB's default policy (index everything) until their queries exist.
var containers = [
  {
    name: 'images'
    indexingPolicy: imagesIndexingPolicy
  }
  {
    name: 'changes'
    indexingPolicy: null
  }
  {
    name: 'state'
    indexingPolicy: null
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [{ name: 'EnableServerless' }] : []
    // Entra ID only: account keys are refused on the data plane, and nothing can change databases or
    // containers with a key either.
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : { throughput: provisionedThroughput }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for c in containers: {
    parent: database
    name: c.name
    properties: {
      resource: {
        id: c.name
        partitionKey: {
          paths: [partitionKeyPath]
          kind: 'Hash'
          version: 2
        }
        // null: the service's default policy (as the AVM container module passes it).
        indexingPolicy: c.indexingPolicy
      }
    }
  }
]

// Scoped to the database, not the account: the identity can touch scanhook's data and nothing else.
resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, appPrincipalId, dataContributorRoleId, databaseName)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: appPrincipalId
    scope: '${account.id}/dbs/${databaseName}'
  }
  dependsOn: [
    database
  ]
}

@description('The name of the Cosmos DB account.')
output name string = account.name

@description('The resource ID of the Cosmos DB account.')
output resourceId string = account.id

@description('The account endpoint, e.g. `https://<name>.documents.azure.com:443/` (COSMOS_ENDPOINT).')
output endpoint string = account.properties.documentEndpoint

@description('The name of the database (COSMOS_DATABASE).')
output databaseName string = database.name
