import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { getDb } from '$lib/db/db';
import { openStudioDb } from '$lib/db/open';
import { markInterruptedRuns } from '$lib/training/job';
import { startRestHost } from '$studio/rest-host';
import { startMonitoring } from '$studio/monitoring';
import { startMetricsPush } from '$studio/metrics-push';
import { registerGateEvaluators } from '$lib/workflows/gate';
import { onWorkerCrash, workers } from '$lib/workers';
import { notify } from '$lib/ui/notifications.svelte';
import { registerServiceWorker } from '$lib/pwa';
import { startPipelines } from '$studio/pipelines';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
// A crashed worker becomes a visible error toast (the client restarts it on the next call).
onWorkerCrash((error) => notify('error', error.message));
await openStudioDb();
// The promotion gate measures versions in the trainer worker.
registerGateEvaluators((...args) => workers().trainer.api().evaluateVersion(...args));
mount(App, { target });
registerServiceWorker((message) => notify('warn', message));
// This tab answers the same-origin REST API the service worker forwards (src/lib/serving).
void startRestHost();
// Alert rules, periodic evaluations and drift references run while a studio tab is open (src/lib/monitoring).
startMonitoring();
// With Settings → Push metrics on, one tab (elected with a Web Lock) pushes api/metrics' figures to a Pushgateway.
startMetricsPush();
// One tab (elected with a Web Lock) runs pipeline schedules and triggers; queued and interrupted runs continue (src/lib/pipelines).
startPipelines();
// Runs left "running" by a tab that closed mid-training become resumable (the Train page offers it).
markInterruptedRuns(getDb()).catch((error: unknown) => console.warn('could not check for interrupted runs', error));
// Sweeps left running by a tab that closed continue here, without repeating finished trials (src/lib/sweeps).
import('$lib/sweeps/session.svelte').then((m) => m.resumeUnfinishedSweeps()).catch((error: unknown) => console.warn('could not resume sweeps', error));
