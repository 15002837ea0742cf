FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Inside the container the agent listens on all interfaces; compose publishes it on localhost only.
ENV VIGIL_HTTP_HOST=0.0.0.0
USER node
EXPOSE 8470
CMD ["node", "bin/vigil.js", "start"]
