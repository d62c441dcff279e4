export * from './nag-acknowledgements';
