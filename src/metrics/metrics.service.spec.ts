import { MetricsService } from './metrics.service';

describe('MetricsService', () => {
  it('keeps at most 100 channel label series, folding the rest into _other', async () => {
    const metrics = new MetricsService();
    for (let i = 0; i < 150; i++) metrics.anomaliesFlagged.inc({ channel: `col${i}` }, 2);
    metrics.anomaliesFlagged.inc({ channel: 'col3' });
    const text = await metrics.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('anomaly_anomalies_flagged_total{'));
    expect(series).toHaveLength(101);
    expect(series).toContain('anomaly_anomalies_flagged_total{channel="_other"} 100');
    expect(series).toContain('anomaly_anomalies_flagged_total{channel="col3"} 3');
  });
});
