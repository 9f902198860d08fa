metadata name = 'scanhook identity'
metadata description = 'The user-assigned managed identity the function app runs as (and, later, the scanner job).'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Optional. Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for the identity. Defaults to none.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('The name of the identity.')
output name string = identity.name

@description('The resource ID of the identity.')
output resourceId string = identity.id

@description('The principal (object) ID of the identity: what role assignments name.')
output principalId string = identity.properties.principalId

@description('The client (application) ID of the identity: what AZURE_CLIENT_ID and the `__clientId` settings carry.')
output clientId string = identity.properties.clientId
