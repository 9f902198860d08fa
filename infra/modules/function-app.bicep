metadata name = 'scanhook function app'
metadata description = 'A Linux function app on the Flex Consumption plan (FC1), Node.js 22, running as a user-assigned identity, with identity-based host storage and deployment storage.'

@description('Required. Name of the function app (2-60 letters, digits and hyphens; becomes <name>.azurewebsites.net).')
@minLength(2)
@maxLength(60)
param name string

@description('Required. Name of the Flex Consumption plan (one app per plan).')
param planName string

@description('Optional. Azure region (one that offers Flex Consumption: `az functionapp list-flexconsumption-locations`). Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for the plan and the app. Defaults to none.')
param tags object = {}

@description('Required. Resource ID of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Required. Client ID of that identity (AzureWebJobsStorage__clientId, AZURE_CLIENT_ID, Application Insights authentication).')
param identityClientId string

@description('Required. Name of the storage account behind AzureWebJobsStorage.')
param storageAccountName string

@description('Required. Blob endpoint of that account, e.g. `https://<name>.blob.core.windows.net/`.')
param storageBlobEndpoint string

@description('Required. Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Required. Name of the Application Insights component (in this resource group) the host sends telemetry to.')
param appInsightsName string

@description('Optional. Largest number of instances the app scales out to (1-1000). Defaults to 100.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory per instance in MB. Defaults to 2048.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Node.js major version (functionAppConfig.runtime.version). Defaults to 22.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Optional. The application\'s own settings (scanhook\'s SETTINGS, with keys as Key Vault references), merged over the host settings this module sets. Defaults to none.')
param appSettings object = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

// Settings the Functions host reads. Flex Consumption forbids FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION, WEBSITE_NODE_DEFAULT_VERSION, WEBSITE_RUN_FROM_PACKAGE,
// WEBSITE_CONTENTSHARE, WEBSITE_CONTENTAZUREFILECONNECTIONSTRING and the like: the runtime, its
// version and the deployment source live in functionAppConfig instead (Microsoft Learn, "Flex
// Consumption plan deprecations"), so none of them appears here.
var hostAppSettings = {
  // Identity-based host storage: no connection string, no account key (the account refuses them).
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  // Entra ID ingestion with the user-assigned identity (the component refuses key-only telemetry).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Semi-spaces of up to 32 MB, a young generation larger than V8's default: a rematch reads an
  // SBOM's JSON and lets it go within milliseconds, and a matcher starting cold compiles what it
  // keeps for the DB's life; with fewer scavenges, re-matching stored SBOMs on a new instance runs
  // about 15% faster (README, "Benchmarks"). The same flag as `npm start` and `bench:match`.
  NODE_OPTIONS: '--max-semi-space-size=32'
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    // Key Vault references in app settings are resolved with the user-assigned identity.
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
      // No ftpsState, alwaysOn, linuxFxVersion, functionAppScaleLimit…: not valid on Flex Consumption
      // (there is no FTP endpoint at all on this plan).
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// The whole app settings collection: this resource replaces it on every deployment, so a setting
// added by hand outside Bicep disappears at the next deployment.
resource appSettingsConfig 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(hostAppSettings, appSettings)
}

// Basic-auth (user name + password) publishing off: deploy with Entra ID (az functionapp deployment,
// func azure functionapp publish). FTP needs no switch: Flex Consumption has no FTP endpoint.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('The name of the function app.')
output name string = app.name

@description('The resource ID of the function app.')
output resourceId string = app.id

@description('The default host name, e.g. `<name>.azurewebsites.net`.')
output defaultHostname string = app.properties.defaultHostName

@description('The resource ID of the Flex Consumption plan.')
output planResourceId string = plan.id

@description('The resource ID of the user-assigned identity the app runs as (it has no system-assigned identity).')
output identityResourceId string = identityResourceId
