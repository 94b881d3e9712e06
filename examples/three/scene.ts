/**
 * The example's scene: a checkered floor, a fence of thin posts, a spinning torus knot, spinning
 * boxes and a sphere sliding in front of them, seen from a camera that circles the middle. Its
 * motion is a function of the frame number only, so two renders of frame i are the same image
 * (the test compares methods frame for frame).
 */
import * as THREE from 'three/webgpu';

export interface ExampleScene {
  scene: THREE.Scene;
  camera: THREE.PerspectiveCamera;
  /** Poses the scene and the camera for frame `frame` (60 frames a second). */
  setFrame(frame: number): void;
}

/** A checkerboard with a thin grid line: detail at every scale the upscaler has to keep. */
function checkerTexture(): THREE.DataTexture {
  const size = 256;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const check = ((x >> 5) + (y >> 5)) % 2 === 0;
      const line = x % 32 === 0 || y % 32 === 0;
      const v = line ? 30 : check ? 235 : 120;
      data.set([v, check ? v : v * 0.8, check ? v * 0.9 : v, 255], (y * size + x) * 4);
    }
  }
  const texture = new THREE.DataTexture(data, size, size);
  texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
  texture.repeat.set(6, 6);
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.generateMipmaps = true;
  texture.minFilter = THREE.LinearMipmapLinearFilter;
  texture.magFilter = THREE.LinearFilter;
  texture.anisotropy = 8;
  texture.needsUpdate = true;
  return texture;
}

export function createExampleScene(aspect: number): ExampleScene {
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x8fb4d9);
  scene.add(new THREE.HemisphereLight(0xdfeeff, 0x5a4a3a, 1.4));
  const sun = new THREE.DirectionalLight(0xffffff, 2.2);
  sun.position.set(4, 8, 3);
  scene.add(sun);

  const floor = new THREE.Mesh(
    new THREE.PlaneGeometry(24, 24),
    new THREE.MeshStandardMaterial({ map: checkerTexture(), roughness: 0.9 }),
  );
  floor.rotation.x = -Math.PI / 2;
  scene.add(floor);

  // Thin posts (a few render pixels apart, under one pixel wide at render size) and a rail.
  const postMaterial = new THREE.MeshStandardMaterial({ color: 0x2b2118, roughness: 0.6 });
  const posts = new THREE.Group();
  for (let i = 0; i < 41; i++) {
    const post = new THREE.Mesh(new THREE.CylinderGeometry(0.02, 0.02, 1.4, 6), postMaterial);
    post.position.set(-4 + i * 0.2, 0.7, -2.5);
    posts.add(post);
  }
  const rail = new THREE.Mesh(new THREE.BoxGeometry(8.2, 0.05, 0.05), postMaterial);
  rail.position.set(0, 1.35, -2.5);
  posts.add(rail);
  scene.add(posts);

  const knot = new THREE.Mesh(
    new THREE.TorusKnotGeometry(0.6, 0.18, 160, 24),
    new THREE.MeshStandardMaterial({ color: 0xd4553a, metalness: 0.4, roughness: 0.3 }),
  );
  knot.position.set(0, 1.2, 0);
  scene.add(knot);

  const boxes: THREE.Mesh[] = [];
  for (let i = 0; i < 3; i++) {
    const box = new THREE.Mesh(
      new THREE.BoxGeometry(0.6, 0.6, 0.6),
      new THREE.MeshStandardMaterial({ color: [0x3a7bd4, 0x4fb06b, 0xe0b040][i], roughness: 0.5 }),
    );
    box.position.set(-2 + i * 2, 0.4, 1.5);
    boxes.push(box);
    scene.add(box);
  }

  const sphere = new THREE.Mesh(
    new THREE.SphereGeometry(0.35, 32, 16),
    new THREE.MeshStandardMaterial({ color: 0xeeeeee, metalness: 0.1, roughness: 0.2 }),
  );
  scene.add(sphere);

  const camera = new THREE.PerspectiveCamera(50, aspect, 0.1, 100);

  const setFrame = (frame: number) => {
    const t = frame / 60;
    knot.rotation.set(t * 0.9, t * 1.3, 0);
    boxes.forEach((box, i) => box.rotation.set(t * (0.7 + i * 0.3), t * (1.1 - i * 0.2), 0));
    sphere.position.set(Math.sin(t * 1.5) * 2.5, 0.35, 0.6);
    const angle = 0.4 + t * 0.25;
    camera.position.set(Math.sin(angle) * 6, 2.4 + Math.sin(t * 0.7) * 0.3, Math.cos(angle) * 6);
    camera.lookAt(0, 0.8, 0);
    scene.updateMatrixWorld(true);
  };
  setFrame(0);
  return { scene, camera, setFrame };
}
