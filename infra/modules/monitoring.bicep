metadata name = 'scanhook monitoring'
metadata description = 'A Log Analytics workspace and a workspace-based Application Insights component that accepts only Entra ID-authenticated telemetry.'

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Optional. Tags for every resource. Defaults to none.')
param tags object = {}

@description('Optional. Days the workspace keeps data. Defaults to 30.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Refuse telemetry that carries only the instrumentation key: only Entra ID-authenticated senders holding Monitoring Metrics Publisher can write. Defaults to true.')
param disableLocalAuth bool = true

@description('Required. Principal ID of the identity that sends telemetry; it gets Monitoring Metrics Publisher on the component.')
param telemetryPrincipalId string

var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      // Workspace keys (agents' shared keys) are refused; queries and ingestion use Entra ID.
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: disableLocalAuth
  }
}

// Monitoring Metrics Publisher: despite the name, it lets the identity publish all telemetry
// (traces, requests, dependencies) when local auth is off (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, telemetryPrincipalId, monitoringMetricsPublisherRoleId)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: telemetryPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('The name of the Application Insights component.')
output name string = appInsights.name

@description('The resource ID of the Application Insights component.')
output resourceId string = appInsights.id

@description('The name of the Log Analytics workspace.')
output workspaceName string = workspace.name

@description('The resource ID of the Log Analytics workspace.')
output workspaceResourceId string = workspace.id
