metadata name = 'scanhook Key Vault'
metadata description = 'A Key Vault with RBAC authorization holding scanhook\'s keys, read by the app identity through Key Vault references.'

@description('Required. Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for the vault. Defaults to none.')
param tags object = {}

@description('Optional. Purge protection: a deleted vault or secret cannot be purged before the retention period ends. Once on it cannot be turned off. Defaults to true.')
param enablePurgeProtection bool = true

@description('Optional. Days a deleted vault or secret can be recovered. Defaults to 90.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('One secret and the app setting that references it.')
type secretSettingType = {
  @description('Required. Key Vault secret name (letters, digits, hyphens).')
  secret: string

  @description('Required. The app setting that will reference the secret.')
  setting: string
}

@description('One app setting and the versioned URI of its secret.')
type referenceType = {
  @description('The app setting.')
  setting: string

  @description('The secret\'s versioned URI (a location, not the value).')
  uri: string
}

@description('Required. The secrets to store, in order. Values come from `secretValues`.')
param secretSettings secretSettingType[]

@description('Required. Secret values by secret name. Never logged, never output.')
@secure()
param secretValues object

@description('Required. Principal ID of the identity the app runs as; it gets Key Vault Secrets User on the vault.')
param appPrincipalId string

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The service accepts only true or an absent value here: false is rejected.
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
  }
}

// Secrets are written through ARM (control plane): the deploying principal needs no data-plane role.
resource secrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for s in secretSettings: {
    parent: vault
    name: s.secret
    properties: {
      value: secretValues[s.secret]
      contentType: 'text/plain'
    }
  }
]

// Key Vault Secrets User: read secret values, nothing else. Vault scope (it holds only scanhook's
// secrets; later, registry credentials for REGISTRIES entries of type key-vault go here too).
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('The name of the vault.')
output name string = vault.name

@description('The resource ID of the vault.')
output resourceId string = vault.id

@description('The vault URI, e.g. `https://<name>.vault.azure.net/`.')
output uri string = vault.properties.vaultUri

@description('For each entry of `secretSettings`, in order: the app setting and the versioned URI of its secret (a location, not the value).')
output references referenceType[] = [
  for (s, i) in secretSettings: {
    setting: s.setting
    uri: secrets[i].properties.secretUriWithVersion
  }
]
