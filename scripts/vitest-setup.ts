// Decorators used by inversify need the Reflect metadata polyfill before any class is declared.
import 'reflect-metadata';
