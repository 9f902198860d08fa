metadata name = 'scanhook'
metadata description = 'scanhook in one resource group: a function app on Flex Consumption with a user-assigned identity, Cosmos DB for NoSQL, Storage (queues, host storage, deployment package), Key Vault for its keys, Log Analytics and Application Insights. No shared keys, no account keys, no local auth.'

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Optional. Azure region for every resource; it must offer Flex Consumption (`az functionapp list-flexconsumption-locations`). Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Short lowercase prefix for resource names (letters, digits, hyphens; at most 12). Names that must be globally unique get a suffix derived from the subscription, resource group and prefix. Defaults to `scanhook`.')
@minLength(2)
@maxLength(12)
param namePrefix string = 'scanhook'

@description('Optional. Tags for every resource. Defaults to none.')
param tags object = {}

@description('Optional. REGISTRIES: the registries scanhook accepts events from and contacts, `host[,host…]` or the JSON form (see README). Defaults to empty (none).')
param registries string = ''

@description('Optional. LOG_LEVEL: the least severe level scanhook writes. Defaults to `info`.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('Optional. HTTP_MAX_BODY_BYTES: the largest request body any endpoint accepts. Defaults to 1048576.')
@minValue(1)
param httpMaxBodyBytes int = 1048576

@description('Optional. Largest number of function app instances (Flex Consumption, 1-1000). Defaults to 100.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('Optional. Memory per function app instance in MB (512, 2048 or 4096). Defaults to 2048.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Optional. Cosmos DB RU/s shared by the database\'s containers; 0 makes the account serverless. Decided at creation: an existing account is not converted by redeploying. Defaults to 0 (serverless).')
@minValue(0)
param cosmosProvisionedThroughput int = 0

@description('Optional. Key Vault purge protection (cannot be turned off once on). Defaults to true.')
param keyVaultEnablePurgeProtection bool = true

@description('Optional. Make Application Insights refuse telemetry sent with the instrumentation key alone (the function app authenticates with its identity either way). Defaults to true.')
param appInsightsDisableLocalAuth bool = true

@description('Optional. Days Log Analytics keeps data. Defaults to 30.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Required. WEBHOOK_KEY: the key registries send (`x-functions-key` header or `code` query value). 24-512 characters.')
@secure()
@minLength(24)
@maxLength(512)
param webhookKey string

@description('Required. READ_KEY: the key dashboards, the CLI and scripts read with. 24-512 characters.')
@secure()
@minLength(24)
@maxLength(512)
param readKey string

@description('Required. ADMIN_KEY: the key for changing things (policy, rescans, backfill). 24-512 characters.')
@secure()
@minLength(24)
@maxLength(512)
param adminKey string

@description('Required. ADMISSION_SECRET: the secret the Kubernetes API server and Gatekeeper send as the last path segment. 24-512 characters.')
@secure()
@minLength(24)
@maxLength(512)
param admissionSecret string

@description('Optional. WEBHOOK_KEY_NEXT: a second accepted webhook key, only while rotating (24-512 characters). Defaults to empty: not set.')
@secure()
param webhookKeyNext string = ''

@description('Optional. READ_KEY_NEXT: a second accepted read key, only while rotating (24-512 characters). Defaults to empty: not set.')
@secure()
param readKeyNext string = ''

@description('Optional. ADMIN_KEY_NEXT: a second accepted admin key, only while rotating (24-512 characters). Defaults to empty: not set.')
@secure()
param adminKeyNext string = ''

@description('Optional. ADMISSION_SECRET_NEXT: a second accepted admission secret, only while rotating (24-512 characters). Defaults to empty: not set.')
@secure()
param admissionSecretNext string = ''

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var suffix = uniqueString(subscription().id, resourceGroup().id, namePrefix)
var names = {
  identity: 'id-${namePrefix}'
  logAnalytics: 'log-${namePrefix}-${suffix}'
  appInsights: 'appi-${namePrefix}-${suffix}'
  storage: take(toLower('st${replace(namePrefix, '-', '')}${suffix}'), 24)
  cosmos: toLower('cosmos-${namePrefix}-${suffix}')
  keyVault: take('kv-${namePrefix}-${suffix}', 24)
  plan: 'plan-${namePrefix}-${suffix}'
  functionApp: toLower('func-${namePrefix}-${suffix}')
  deploymentContainer: 'app-package'
}

// The queues of shared/queues/queues.ts (QUEUES); the storage module adds each `-poison` twin.
var queueNames = [
  'scan-requests'
  'rematch-requests'
  'notifications'
  'verdict-changes'
]

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    disableLocalAuth: appInsightsDisableLocalAuth
    telemetryPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    queueNames: queueNames
    deploymentContainerName: names.deploymentContainer
    appPrincipalId: identity.outputs.principalId
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databaseName: 'scanhook'
    provisionedThroughput: cosmosProvisionedThroughput
    appPrincipalId: identity.outputs.principalId
  }
}

// scanhook's keys: each a Key Vault secret (names use `-`: Key Vault names cannot hold `_`) and an
// app setting that references it. A `…_NEXT` key exists only while it is given (a rotation).
var keySettings = [
  {
    setting: 'WEBHOOK_KEY'
    secret: 'webhook-key'
    value: webhookKey
  }
  {
    setting: 'READ_KEY'
    secret: 'read-key'
    value: readKey
  }
  {
    setting: 'ADMIN_KEY'
    secret: 'admin-key'
    value: adminKey
  }
  {
    setting: 'ADMISSION_SECRET'
    secret: 'admission-secret'
    value: admissionSecret
  }
  {
    setting: 'WEBHOOK_KEY_NEXT'
    secret: 'webhook-key-next'
    value: webhookKeyNext
  }
  {
    setting: 'READ_KEY_NEXT'
    secret: 'read-key-next'
    value: readKeyNext
  }
  {
    setting: 'ADMIN_KEY_NEXT'
    secret: 'admin-key-next'
    value: adminKeyNext
  }
  {
    setting: 'ADMISSION_SECRET_NEXT'
    secret: 'admission-secret-next'
    value: admissionSecretNext
  }
]
var givenKeySettings = filter(keySettings, k => !empty(k.value))

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    enablePurgeProtection: keyVaultEnablePurgeProtection
    secretSettings: map(givenKeySettings, k => {
      secret: k.secret
      setting: k.setting
    })
    secretValues: toObject(givenKeySettings, k => k.secret, k => k.value)
    appPrincipalId: identity.outputs.principalId
  }
}

// Each key setting becomes `@Microsoft.KeyVault(SecretUri=<versioned URI>)`: a new secret value
// gives a new URI, so the app settings change and the app restarts with the new key.
var keyVaultReferenceSettings = toObject(keyVault.outputs.references, r => r.setting, r => '@Microsoft.KeyVault(SecretUri=${r.uri})')

// scanhook's own settings (shared/config.ts SETTINGS). Those that only apply to `npm start` are
// left out on purpose; test/infra/bicep-settings.test.ts lists them with the reason.
var scanhookAppSettings = {
  LOG_LEVEL: logLevel
  STORE: 'cosmos'
  COSMOS_ENDPOINT: cosmos.outputs.endpoint
  COSMOS_DATABASE: cosmos.outputs.databaseName
  // Entra ID data-plane roles cannot create databases or containers; the cosmos module creates them.
  COSMOS_CREATE_IF_MISSING: 'false'
  // The identity scanhook's own SDK clients (Cosmos DB, registries) use.
  AZURE_CLIENT_ID: identity.outputs.clientId
  HTTP_MAX_BODY_BYTES: string(httpMaxBodyBytes)
  MANIFEST_MAX_BYTES: '4194304'
  REGISTRIES: registries
  // Indexer limits (shared/scanner/limits.ts), the defaults written out so they show in the portal.
  SCAN_MAX_LAYER_BYTES: '4294967296'
  SCAN_MAX_LAYER_UNCOMPRESSED_BYTES: '17179869184'
  SCAN_MAX_ENTRIES: '500000'
  SCAN_MAX_PATH_BYTES: '4096'
  SCAN_MAX_FILE_BYTES: '268435456'
  SCAN_TIMEOUT_SECONDS: '900'
  SCAN_PLATFORMS: ''
  // The policy is a blob in the same storage account; PUT /api/policy writes it there.
  POLICY_LOCATION: 'blob:scanhook-config/policy.yaml'
  POLICY_RELOAD_SECONDS: '30'
  VERDICT_CACHE_SECONDS: '5'
  VERDICT_CACHE_MAX_ENTRIES: '100000'
  VERDICT_BATCH_MAX: '100'
  VERDICT_SWEEP_MAX_RECORDS: '5000'
  // The vulnerability DB: the hourly refresh builds it in the instance's /tmp and publishes each new
  // version to the scanhook-vulndb container; every instance downloads a version once.
  VULNDB_SOURCE: 'blob'
  VULNDB_PATH: '/tmp/scanhook/vulndb.sqlite'
  VULNDB_DOWNLOAD: 'true'
  OSV_BASE_URL: 'https://osv-vulnerabilities.storage.googleapis.com'
  OSV_ECOSYSTEMS: 'Debian,Ubuntu,Alpine,Wolfi,Chainguard,Azure Linux,Rocky Linux,AlmaLinux,SUSE,openSUSE,Red Hat,npm,PyPI,Go,Maven,RubyGems,NuGet,Packagist,crates.io'
  REDHAT_CPE_URL: 'https://security.access.redhat.com/data/metrics/repository-to-cpe.json'
  VULNDB_REMATCH_MAX_RECORDS: '5000'
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsName: monitoring.outputs.name
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    nodeVersion: '22'
    appSettings: union(scanhookAppSettings, keyVaultReferenceSettings)
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (no secrets: host names, IDs, endpoints)
// ---------------------------------------------------------------------------------------------

@description('The function app\'s default host name: webhooks and the API are at https://<this>/api/….')
output functionAppHostname string = functionApp.outputs.defaultHostname

@description('The function app\'s name.')
output functionAppName string = functionApp.outputs.name

@description('The principal (object) ID of the app identity, for role assignments made elsewhere (e.g. AcrPull on a registry).')
output identityPrincipalId string = identity.outputs.principalId

@description('The client ID of the app identity (AZURE_CLIENT_ID).')
output identityClientId string = identity.outputs.clientId

@description('The resource ID of the app identity.')
output identityResourceId string = identity.outputs.resourceId

@description('The Cosmos DB account endpoint (COSMOS_ENDPOINT).')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('The storage account name (AzureWebJobsStorage__accountName).')
output storageAccountName string = storage.outputs.name

@description('The Key Vault URI.')
output keyVaultUri string = keyVault.outputs.uri
