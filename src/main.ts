import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { getDb } from '$lib/db/db';
import { openStudioDb } from '$lib/db/open';
import { markInterruptedRuns } from '$lib/training/job';
import { startRestHost } from '$lib/serving/rest-host';
import { registerGateEvaluators } from '$lib/tasks/gate';
import { registerServiceWorker } from '$lib/pwa';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
await openStudioDb();
registerGateEvaluators();
mount(App, { target });
registerServiceWorker();
// This tab answers the same-origin REST API the service worker forwards (src/lib/serving).
void startRestHost();
// Runs left "running" by a tab that closed mid-training become resumable (the Train page offers it).
markInterruptedRuns(getDb()).catch((error: unknown) => console.warn('could not check for interrupted runs', error));
