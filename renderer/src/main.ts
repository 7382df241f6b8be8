import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connect } from './lib/api';
import { AppState } from './lib/app.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
const app = new AppState(connect());
void app.init();
export default mount(App, { target, props: { app } });
