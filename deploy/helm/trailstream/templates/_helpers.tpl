{{/* The three services, in pipeline order. */}}
{{- define "trailstream.services" -}}
ingester enricher alerter
{{- end -}}

{{- define "trailstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "trailstream.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one service's resources: (dict "root" $ "service" "ingester") */}}
{{- define "trailstream.serviceName" -}}
{{- printf "%s-%s" (include "trailstream.fullname" .root | trunc 45 | trimSuffix "-") .service -}}
{{- end -}}

{{- define "trailstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "trailstream.labels" -}}
helm.sh/chart: {{ include "trailstream.chart" . }}
{{ include "trailstream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: trailstream
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "trailstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trailstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one service's resources: (dict "root" $ "service" "ingester") */}}
{{- define "trailstream.serviceLabels" -}}
{{ include "trailstream.labels" .root }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "trailstream.serviceSelectorLabels" -}}
{{ include "trailstream.selectorLabels" .root }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "trailstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "trailstream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "trailstream.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The Kafka ports of the brokers list, for the NetworkPolicy. */}}
{{- define "trailstream.kafkaPorts" -}}
{{- $ports := list -}}
{{- if .Values.networkPolicy.kafka.ports -}}
{{- $ports = .Values.networkPolicy.kafka.ports -}}
{{- else -}}
{{- range .Values.kafka.brokers -}}
{{- $ports = append $ports (splitList ":" . | last | int) -}}
{{- end -}}
{{- end -}}
{{- $ports | uniq | toJson -}}
{{- end -}}

{{/*
Checks that hold across values, which the JSON schema cannot express. Fails the render with a
message naming the keys.
*/}}
{{- define "trailstream.validate" -}}
{{- $root := . -}}
{{- range $service := splitList " " (include "trailstream.services" .) -}}
{{- $v := index $root.Values $service -}}
{{- if and $v.enabled $v.keda.enabled $v.autoscaling.enabled -}}
{{- fail (printf "%s.keda.enabled and %s.autoscaling.enabled are both true: a service is scaled by a KEDA ScaledObject or by an HPA, never both. Turn one off." $service $service) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.ingester.enabled .Values.ingester.keda.enabled (not .Values.ingester.sqsQueueUrls) -}}
{{- fail "ingester.keda.enabled scales the ingester on SQS queue length: set ingester.sqsQueueUrls" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.mechanism is set: name the Secret holding the username and password in kafka.sasl.existingSecret" -}}
{{- end -}}
{{- if and .Values.redis.urlKey (not .Values.redis.existingSecret) -}}
{{- fail "redis.urlKey is set: name the Secret holding the URL in redis.existingSecret" -}}
{{- end -}}
{{- if and .Values.redis.passwordKey (not .Values.redis.existingSecret) -}}
{{- fail "redis.passwordKey is set: name the Secret holding the password in redis.existingSecret" -}}
{{- end -}}
{{- if and .Values.redis.usernameKey (not .Values.redis.existingSecret) -}}
{{- fail "redis.usernameKey is set: name the Secret holding the user name in redis.existingSecret" -}}
{{- end -}}
{{- if and .Values.redis.url (regexFind "^rediss?(\\+(sentinel|cluster))?://[^/@]*:[^/@]*@" .Values.redis.url) -}}
{{- fail "redis.url holds a password: put the password in a Secret (redis.existingSecret, redis.passwordKey) and keep it out of values" -}}
{{- end -}}
{{- if and .Values.alerter.rules.existingConfigMap .Values.alerter.rules.custom -}}
{{- fail "alerter.rules: use custom or existingConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.enricher.eventSelectors.existingConfigMap .Values.enricher.eventSelectors.inline -}}
{{- fail "enricher.eventSelectors: use inline or existingConfigMap, not both" -}}
{{- end -}}
{{- end -}}

{{/* Environment of one service: (dict "root" $ "service" "ingester") */}}
{{- define "trailstream.env" -}}
{{- $root := .root -}}
{{- $V := $root.Values -}}
{{- $v := index $V .service -}}
- name: KAFKA_BROKERS
  value: {{ join "," $V.kafka.brokers | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ printf "%s-%s" $V.kafka.clientIdPrefix .service | quote }}
- name: KAFKA_SSL
  value: {{ $V.kafka.tls.enabled | quote }}
- name: KAFKA_COMPRESSION
  value: {{ $V.kafka.compression | quote }}
{{- if $V.kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $V.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $V.kafka.sasl.existingSecret }}
      key: {{ $V.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $V.kafka.sasl.existingSecret }}
      key: {{ $V.kafka.sasl.passwordKey }}
{{- end }}
{{- if $V.kafka.tls.caSecret }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/trailstream/kafka-ca/{{ $V.kafka.tls.caKey }}
{{- end }}
{{- if $V.redis.urlKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $V.redis.existingSecret }}
      key: {{ $V.redis.urlKey }}
{{- else }}
- name: REDIS_URL
  value: {{ $V.redis.url | quote }}
{{- end }}
{{- if $V.redis.usernameKey }}
- name: REDIS_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $V.redis.existingSecret }}
      key: {{ $V.redis.usernameKey }}
{{- end }}
{{- if $V.redis.passwordKey }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $V.redis.existingSecret }}
      key: {{ $V.redis.passwordKey }}
{{- end }}
{{- if ne .service "ingester" }}
{{- if $V.kafka.staticMembership }}
- name: KAFKA_GROUP_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- end }}
{{- if ne .service "alerter" }}
- name: TOPIC_RAW
  value: {{ $V.kafka.topics.raw | quote }}
{{- end }}
{{- if ne .service "ingester" }}
- name: TOPIC_EVENTS
  value: {{ $V.kafka.topics.events | quote }}
{{- end }}
{{- if eq .service "alerter" }}
- name: TOPIC_ALERTS
  value: {{ $V.kafka.topics.alerts | quote }}
{{- end }}
{{- if eq .service "enricher" }}
- name: TOPIC_EVENTS_INDEX
  value: {{ $V.kafka.topics.eventsIndex | default (printf "%s.index" $V.kafka.topics.events) | quote }}
{{- end }}
{{- if eq .service "ingester" }}
- name: TOPIC_INTEGRITY
  value: {{ $V.kafka.topics.integrity | quote }}
{{- end }}
- name: TOPIC_DLQ
  value: {{ $V.kafka.topics.dlq | quote }}
- name: LOG_LEVEL
  value: {{ $V.logLevel | quote }}
- name: METRICS_PORT
  value: {{ $V.metricsPort | quote }}
- name: SHUTDOWN_GRACE_MS
  value: {{ $V.shutdownGraceMs | quote }}
{{- if eq .service "ingester" }}
- name: AWS_REGION
  value: {{ $V.aws.region | quote }}
- name: SQS_QUEUE_URLS
  value: {{ join "," $v.sqsQueueUrls | quote }}
- name: KINESIS_STREAMS
  value: {{ join "," $v.kinesisStreams | quote }}
- name: KINESIS_START_POSITION
  value: {{ $v.kinesisStartPosition | quote }}
- name: KINESIS_CONSUMER_MODE
  value: {{ $v.kinesisConsumerMode | quote }}
- name: KINESIS_CONSUMER_NAME
  value: {{ $v.kinesisConsumerName | quote }}
{{- if $v.fileSkipWindow }}
- name: FILE_SKIP_WINDOW
  value: {{ $v.fileSkipWindow | quote }}
{{- end }}
- name: SQS_MAX_RECEIVES
  value: {{ $v.sqsMaxReceives | quote }}
{{- if not (kindIs "invalid" $v.maxFilesInFlight) }}
- name: MAX_FILES_IN_FLIGHT
  value: {{ $v.maxFilesInFlight | quote }}
{{- end }}
{{- else if eq .service "enricher" }}
- name: ENRICHER_GROUP_ID
  value: {{ $v.groupId | quote }}
- name: DEDUP_TTL
  value: {{ $v.dedupTtl | quote }}
- name: DEDUP_SHARDS_PER_HOUR
  value: {{ $v.dedupShardsPerHour | quote }}
- name: DEDUP_ON_REDIS_DOWN
  value: {{ $v.dedupOnRedisDown | quote }}
{{- if include "trailstream.hasEventSelectors" $root }}
- name: EVENT_SELECTORS
  value: {{ printf "/etc/trailstream/selectors/%s" (include "trailstream.eventSelectorsKey" $root) | quote }}
{{- end }}
{{- else if eq .service "alerter" }}
- name: ALERTER_GROUP_ID
  value: {{ $v.groupId | quote }}
- name: RULES_BUILTIN
  value: {{ $v.rules.builtin | quote }}
- name: RULES_DISABLED
  value: {{ join "," ($v.rules.disabled | default list) | quote }}
- name: RULE_OVERRIDES
  value: {{ include "trailstream.ruleOverrides" $v.rules | quote }}
- name: ALERT_SUPPRESS_DEFAULT
  value: {{ $v.suppressDefault | quote }}
- name: ALERT_FLOOD_PER_MINUTE
  value: {{ $v.floodPerMinute | quote }}
- name: RULE_FILES
  value: {{ include "trailstream.ruleFiles" $root | quote }}
{{- if $v.alertmanagerUrl }}
- name: ALERTMANAGER_URL
  value: {{ $v.alertmanagerUrl | quote }}
{{- end }}
{{- if $v.webhookSecret.name }}
- name: TRAILSTREAM_SECRET_WEBHOOK_URLS
  valueFrom:
    secretKeyRef:
      name: {{ $v.webhookSecret.name }}
      key: {{ $v.webhookSecret.key }}
- name: WEBHOOK_URLS
  value: {{ join "," (append $v.webhookUrls "$(TRAILSTREAM_SECRET_WEBHOOK_URLS)") | quote }}
{{- else if $v.webhookUrls }}
- name: WEBHOOK_URLS
  value: {{ join "," $v.webhookUrls | quote }}
{{- end }}
{{- if $v.slack.existingSecret }}
- name: SLACK_WEBHOOK_URLS
  valueFrom:
    secretKeyRef:
      name: {{ $v.slack.existingSecret }}
      key: {{ $v.slack.key }}
{{- end }}
{{- if not (kindIs "invalid" $v.sinkRetries) }}
- name: SINK_RETRIES
  value: {{ $v.sinkRetries | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := $V.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- range $name, $value := $v.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with $V.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Comma list of the custom rule files' paths in the alerter pod. */}}
{{- define "trailstream.ruleFiles" -}}
{{- $files := list -}}
{{- if .Values.alerter.rules.existingConfigMap -}}
{{- $files = .Values.alerter.rules.existingConfigMapFiles -}}
{{- else -}}
{{- $files = keys .Values.alerter.rules.custom | sortAlpha -}}
{{- end -}}
{{- $paths := list -}}
{{- range $files -}}
{{- $paths = append $paths (printf "/etc/trailstream/rules/%s" .) -}}
{{- end -}}
{{- join "," $paths -}}
{{- end -}}

{{- define "trailstream.rulesConfigMapName" -}}
{{- if .Values.alerter.rules.existingConfigMap -}}
{{- .Values.alerter.rules.existingConfigMap -}}
{{- else -}}
{{- printf "%s-rules" (include "trailstream.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{- define "trailstream.hasCustomRules" -}}
{{- if or .Values.alerter.rules.custom (and .Values.alerter.rules.existingConfigMap .Values.alerter.rules.existingConfigMapFiles) -}}true{{- end -}}
{{- end -}}

{{/* RULE_OVERRIDES from alerter.rules.overrides: "id:key=value,key=value;id:..." in id order. */}}
{{- define "trailstream.ruleOverrides" -}}
{{- $parts := list -}}
{{- range $id := keys (.overrides | default dict) | sortAlpha -}}
{{- $o := index $.overrides $id -}}
{{- $kv := list -}}
{{- range $k := keys $o | sortAlpha -}}
{{- $kv = append $kv (printf "%s=%v" $k (index $o $k)) -}}
{{- end -}}
{{- $parts = append $parts (printf "%s:%s" $id (join "," $kv)) -}}
{{- end -}}
{{- join ";" $parts -}}
{{- end -}}

{{/* Whether the enricher reads EVENT_SELECTORS from a mounted ConfigMap ("true" or empty). */}}
{{- define "trailstream.hasEventSelectors" -}}
{{- with .Values.enricher.eventSelectors -}}
{{- if and $.Values.enricher.enabled (or .inline .existingConfigMap) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{- define "trailstream.eventSelectorsConfigMapName" -}}
{{- if .Values.enricher.eventSelectors.existingConfigMap -}}
{{- .Values.enricher.eventSelectors.existingConfigMap -}}
{{- else -}}
{{- printf "%s-event-selectors" (include "trailstream.fullname" . | trunc 47 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{- define "trailstream.eventSelectorsKey" -}}
{{- if .Values.enricher.eventSelectors.existingConfigMap -}}
{{- .Values.enricher.eventSelectors.existingConfigMapKey -}}
{{- else -}}
selectors.json
{{- end -}}
{{- end -}}
