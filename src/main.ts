import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { openStudioDb } from '$lib/db/open';
import { registerServiceWorker } from '$lib/pwa';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
await openStudioDb();
mount(App, { target });
registerServiceWorker();
