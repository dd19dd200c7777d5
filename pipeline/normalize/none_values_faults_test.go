package normalize

// A review: a fault of the new profile key none_values (b31210d,
// applyProfile in profile.go: the loop over p.renamedTo after the
// renames). It fails on the code as found.

import (
	"strings"
	"testing"
)

// TestNoneValueOutranksRealValue
//
// What is wrong: none_values is applied after the walk has already
// settled which of several renames into one field wins. The juniper.srx
// profile renames two parameters into each of juniper.srx.application
// (application, application-name), observer.ingress.zone (source-zone,
// source-zone-name) and observer.ingress.interface.name
// (packet-incoming-interface, source-interface-name, interface-name).
// When two of them arrive in one SD element, the rename ranked first
// (outranks: the smaller source path, "...application" before
// "...application-name") takes the field and the other is moved back
// under its Junos name; if the winner is a none word (Junos writes
// UNKNOWN for an application it did not identify), applyProfile then
// removes it. The real value ("HTTP") is left in
// log.syslog.structured_data under its Junos name and the ECS/juniper.srx
// field is absent: a none word costs a real value.
//
// How to reproduce: the profile below (the juniper.srx renames of the
// application, with its none_values) and an SD element carrying both
// parameters, application="UNKNOWN" application-name="HTTP".
//
// Expected: juniper.srx.application HTTP. docs/schema.md: none_values are
// "words a source writes for none", removed so that they are not indexed
// as values; they should never displace a value. Elastic's juniper_srx
// integration (elastic/integrations packages/juniper_srx/data_stream/log/
// elasticsearch/ingest_pipeline/default.yml, "Removes all empty fields")
// removes every juniper.srx entry whose value is None, UNKNOWN, N/A or -
// BEFORE its renames, so a none word can never shadow a real parameter.
//
// Note: I found no documented Junos message that carries both parameters
// of one of these pairs (RT_FLOW writes application, RT_IDP
// application-name), so for the shipped profile the loss is latent; the
// fault is the feature's order of operations.
func TestNoneValueOutranksRealValue(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "juniper.srx",
		Rename: OrderedMap{
			Keys: []string{
				"log.syslog.structured_data.junos@*.application",
				"log.syslog.structured_data.junos@*.application-name",
			},
			Values: []string{"juniper.srx.application", "juniper.srx.application"},
		},
		NoneValues: []string{"N/A", "None", "UNKNOWN", "-"},
	}}
	for _, in := range []string{
		`{"log":{"syslog":{"msgid":"IDP_ATTACK_LOG_EVENT","structured_data":{"junos@2636.1.1.1.2.129":{"application":"UNKNOWN","application-name":"HTTP"}}}}}`,
		`{"log":{"syslog":{"msgid":"IDP_ATTACK_LOG_EVENT","structured_data":{"junos@2636.1.1.1.2.129":{"application-name":"HTTP","application":"UNKNOWN"}}}}}`,
	} {
		out, _ := faultAppend(t, cfg, in, &EventMeta{SourceType: []byte("juniper.srx")})
		if !strings.Contains(out, `"juniper":{"srx":{"application":"HTTP"}}`) {
			t.Errorf("a none word outranked the real value and was then removed; the value is lost to the field:\n in: %s\nout: %s", in, out)
		}
	}
}
