package metrics

// AllLevels makes the sink worker pass records under the environment's
// level filter too: in prod only WARN+ records are shipped as logs, but
// every request must still be counted.
func (d *Deriver) AllLevels() bool { return true }
