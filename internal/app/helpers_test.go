package app

import (
	"encoding/base64"
	"os"

	dto "github.com/prometheus/client_model/go"
)

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
