package httpin

// Fault tests from a review of the Elasticsearch-compatible endpoints as the
// shippers of docs/shippers.md use them: each failed before the fix of the
// bug it describes (the comments describe the code as it was found).

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestIngestPipelineSetupBlocksBeats: Winlogbeat 8 and Filebeat with
// any module enabled (system, auditd, fortinet, panw, cisco...: what a
// security team runs) install their ingest pipelines every time the
// Elasticsearch output connects, and the connection fails when that does
// not work. Nothing in docs/shippers.md's Beats snippet
// (setup.ilm.enabled: false, setup.template.enabled: false) turns it off,
// and no Beat option does.
//
// Shipper behaviour (elastic/beats):
//   - winlogbeat/beater/winlogbeat.go Run: when the output is elasticsearch
//     it always registers elasticsearch.RegisterConnectCallback(func(c) {
//     return module.UploadPipelines(b.Info, c, overwrite_pipelines) }); the
//     x-pack (default) build embeds the pipelines (winlogbeat-<ver>-routing,
//     -security, -sysmon, -powershell...), and the Winlogbeat docs say
//     "Winlogbeat will send ingest pipelines automatically to Elasticsearch
//     if the Elasticsearch output is enabled".
//   - filebeat/beater/filebeat.go loadModulesPipelines registers
//     ModuleRegistry.LoadPipelines the same way for every enabled module.
//   - Both go through filebeat/fileset/pipelines.go LoadPipeline: unless
//     overwrite_pipelines is set it sends GET /_ingest/pipeline/<id> and
//     stops there on 200; otherwise (and always with overwrite_pipelines)
//     it sends PUT /_ingest/pipeline/<id>, through
//     eslegclient.Connection.LoadJSON, which fails on any status > 300.
//   - An error from a connect callback fails the connection
//     (eslegclient Connect: "Connection marked as failed because the
//     onConnect callback failed"); the output backs off and tries again for
//     ever, and no _bulk is ever sent.
//
// logrouter answers both requests with handleNotFound's 404, so Winlogbeat
// 8 and Filebeat with modules, configured as docs/shippers.md says, never
// send a single event: the queue fills and the Beat stops reading its
// sources.
//
// Correct behaviour: answer the pipeline API as a cluster that takes the
// pipeline (GET /_ingest/pipeline/<id> 200, PUT 200 {"acknowledged":true};
// the bulk handler already ignores the "pipeline" of each action, and
// logrouter's profiles do the parsing), or document that these Beats
// cannot use the elasticsearch output. Both of LoadPipeline's paths are
// checked here: the default (GET, then PUT unless 200) and
// overwrite_pipelines: true (PUT only).
func TestIngestPipelineSetupBlocksBeats(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "winlogbeat", Token: "tok"}}}, nil)
	auth := reviewBasic("winlogbeat", "tok")
	const path = "/_ingest/pipeline/winlogbeat-8.11.0-routing"
	const pipeline = `{"description":"Winlogbeat Routing Pipeline","processors":[{"set":{"field":"event.ingested","value":"{{_ingest.timestamp}}"}}]}`

	// libbeat's LoadPipeline, as it treats the answers.
	load := func(overwrite bool) (string, bool) {
		if !overwrite {
			w := f.do("GET", path, auth, "", "Accept", "application/json")
			if w.Code == http.StatusOK {
				return "GET 200", true
			}
		}
		w := f.do("PUT", path, auth, pipeline, "Accept", "application/json", "Content-Type", "application/json")
		if w.Code > 300 {
			return "PUT " + http.StatusText(w.Code) + ": " + w.Body.String(), false
		}
		if !json.Valid(w.Body.Bytes()) {
			return "PUT answered a body that is not JSON: " + w.Body.String(), false
		}
		return "PUT ok", true
	}
	for _, overwrite := range []bool{false, true} {
		if how, ok := load(overwrite); !ok {
			t.Errorf("overwrite_pipelines=%v: loading the ingest pipeline fails (%s): Winlogbeat 8 / Filebeat with modules mark the connection failed and never send _bulk", overwrite, how)
		}
	}

	// What the Beat sends once connected: the action names the pipeline,
	// which logrouter may ignore; the event must still be accepted.
	w := f.do("POST", "/_bulk", auth,
		"{\"create\":{\"_index\":\"winlogbeat-8.11.0\",\"pipeline\":\"winlogbeat-8.11.0-routing\"}}\n{\"message\":\"An account was successfully logged on.\",\"winlog\":{\"event_id\":\"4624\"}}\n")
	if br := decodeBulk(t, w); w.Code != http.StatusOK || br.Errors || len(br.Items) != 1 {
		t.Errorf("bulk with a pipeline: %d %s", w.Code, w.Body)
	}
}
