metadata name = 'scanhook storage'
metadata description = 'The storage account behind AzureWebJobsStorage: the Functions host\'s own containers, scanhook\'s queues and the Flex Consumption deployment container. Shared keys are off; everything is reached with Entra ID.'

@description('Required. Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for the account. Defaults to none.')
param tags object = {}

@description('Optional. Redundancy of the account. Defaults to Standard_LRS.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Required. Queues to create (each gets a `<name>-poison` twin, where the Functions host and scanhook move messages that keep failing).')
param queueNames string[]

@description('Required. Name of the blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Required. Principal ID of the identity the function app runs as; it gets the data roles below on this account.')
param appPrincipalId string

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
}

// Why each role (all scoped to this account, none to the resource group):
// - Storage Blob Data Owner: the Functions host's identity-based AzureWebJobsStorage needs it (host
//   keys and locks in azure-webjobs-hosts / -secrets, which the host creates); it also covers reading
//   the Flex deployment container (Storage Blob Data Contributor would be enough for that alone) and
//   scanhook's own blobs (SBOMs, reports) when they land.
// - Storage Queue Data Contributor: queue triggers (read, delete, move to -poison), and scanhook's
//   sender, which creates queues if missing and enqueues.
// - Storage Table Data Contributor: the Functions host writes its diagnostic events to tables; without
//   it the host logs authorization failures (Microsoft Learn, "Connecting to host storage with an identity").
var roleAssignments = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource poisonQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: '${queueName}-poison'
  }
]

resource appRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in roleAssignments: {
    name: guid(account.id, appPrincipalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

@description('The name of the storage account.')
output name string = account.name

@description('The resource ID of the storage account.')
output resourceId string = account.id

@description('The blob endpoint, e.g. `https://<name>.blob.core.windows.net/`.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('The name of the Flex Consumption deployment container.')
output deploymentContainerName string = deploymentContainer.name

@description('Every queue created, poison twins included.')
output queueNames string[] = concat(queueNames, map(queueNames, q => '${q}-poison'))
