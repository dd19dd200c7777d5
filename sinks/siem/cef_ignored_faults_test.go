package siem

import (
	"strings"
	"testing"
)

// TestCEFBlockWithoutFormatCEFRefused: a cef block under a destination
// whose format is json (the default) was accepted and ignored, so a SIEM
// parser set up for the CEF it describes got JSON bodies. It is refused,
// saying which key to add.
func TestCEFBlockWithoutFormatCEFRefused(t *testing.T) {
	c := SyslogConfig{Address: "siem.example.com:6514", CEF: CEFConfig{DeviceVendor: "Acme"}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "format: cef") {
		t.Fatalf("cef block with format json: %v", err)
	}
	c.Format = "cef"
	if err := c.Validate(); err != nil {
		t.Fatalf("with format: cef: %v", err)
	}
	if err := (SyslogConfig{Address: "siem.example.com:6514"}).Validate(); err != nil {
		t.Fatalf("no cef block, format json: %v", err)
	}
}
